package vault_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/grantflow/grantflow/internal/automation/vault"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

func masters(t *testing.T, s string) [][]byte {
	t.Helper()
	m, err := vault.ParseMasterKeys(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSealOpenBindsPlace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.New(t)
	v, err := vault.New(ctx, st.Automation(), masters(t, vault.NewKey()), nil)
	if err != nil {
		t.Fatal(err)
	}
	here := vault.AD("tenant-1", "user", "alice")
	sealed, err := v.Seal(ctx, []byte("gfr_secret"), here)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "gfr_secret") || vault.KeyID(sealed) == "" || !strings.HasPrefix(sealed, "gfv1:"+vault.KeyID(sealed)+":") {
		t.Fatalf("sealed value %q: want gfv1:<key id>:<ciphertext>", sealed)
	}
	got, err := v.Open(ctx, sealed, here)
	if err != nil || string(got) != "gfr_secret" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	tampered := []byte(sealed)
	tampered[len(tampered)-3] ^= 1
	for name, c := range map[string]struct{ sealed, ad string }{
		"other owner":       {sealed, vault.AD("tenant-1", "user", "bob")},
		"other kind":        {sealed, vault.AD("tenant-1", "org", "alice")},
		"other tenant":      {sealed, vault.AD("tenant-2", "user", "alice")},
		"ambiguous joining": {sealed, vault.AD("tenant-1user", "", "alice")},
		"tampered":          {string(tampered), here},
		"relabelled key":    {strings.Replace(sealed, vault.KeyID(sealed), "000000000000", 1), here},
		"garbage":           {"gfr_plain", here},
	} {
		if _, err := v.Open(ctx, c.sealed, c.ad); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
}

func TestRotationKeepsOldValuesReadable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.New(t)
	key := vault.NewKey()
	v1, err := vault.New(ctx, st.Automation(), masters(t, key), nil)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := v1.Seal(ctx, []byte("one"), "ad")
	// A second process on the same store, started before the rotation.
	v2, err := vault.New(ctx, st.Automation(), masters(t, key), nil)
	if err != nil {
		t.Fatal(err)
	}
	newID, err := v1.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The other process seals with the new key at once, and opens both.
	fresh, _ := v2.Seal(ctx, []byte("two"), "ad")
	if vault.KeyID(fresh) != newID || vault.KeyID(old) == newID {
		t.Fatalf("after rotation: fresh under %s, old under %s, new key %s", vault.KeyID(fresh), vault.KeyID(old), newID)
	}
	for _, s := range []string{old, fresh} {
		if _, err := v2.Open(ctx, s, "ad"); err != nil {
			t.Fatalf("open %s: %v", vault.KeyID(s), err)
		}
	}
	moved, err := v2.Reseal(ctx, old, "ad")
	if err != nil || vault.KeyID(moved) != newID {
		t.Fatalf("Reseal: %v, key %s", err, vault.KeyID(moved))
	}
	deleted, err := v1.DeleteKeysExcept(ctx, newID)
	if err != nil || len(deleted) != 1 {
		t.Fatalf("DeleteKeysExcept = %v, %v", deleted, err)
	}
	if _, err := v2.Open(ctx, moved, "ad"); err != nil {
		t.Fatal(err)
	}
	v3, _ := vault.New(ctx, st.Automation(), masters(t, key), nil)
	if _, err := v3.Open(ctx, old, "ad"); !errors.Is(err, vault.ErrUnknownKey) {
		t.Fatalf("value under a deleted key: %v", err)
	}
}

func TestMasterKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.New(t)
	oldKey, newKey := vault.NewKey(), vault.NewKey()
	v1, err := vault.New(ctx, st.Automation(), masters(t, oldKey), nil)
	if err != nil {
		t.Fatal(err)
	}
	sealed, _ := v1.Seal(ctx, []byte("x"), "ad")
	// Another master key cannot unwrap the data keys.
	if _, err := vault.New(ctx, st.Automation(), masters(t, newKey), nil); err == nil {
		t.Fatal("vault opened with the wrong master key")
	}
	// With "new,old" the old data key still opens and new data keys are
	// wrapped by the new master; after re-sealing, the old master can go.
	v2, err := vault.New(ctx, st.Automation(), masters(t, newKey+","+oldKey), nil)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := v2.Rotate(ctx)
	moved, err := v2.Reseal(ctx, sealed, "ad")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v2.DeleteKeysExcept(ctx, id); err != nil {
		t.Fatal(err)
	}
	v3, err := vault.New(ctx, st.Automation(), masters(t, newKey), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := v3.Open(ctx, moved, "ad"); err != nil || string(got) != "x" {
		t.Fatalf("open under the new master only: %q %v", got, err)
	}
	for _, bad := range []string{"", "not base64!", "c2hvcnQ="} {
		if _, err := vault.ParseMasterKeys(bad); err == nil {
			t.Errorf("ParseMasterKeys(%q) accepted", bad)
		}
	}
}

func TestKeyFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "automation.key")
	var wg sync.WaitGroup
	got := make([][][]byte, 8)
	for i := range got {
		wg.Go(func() {
			k, err := vault.LoadOrCreateKeyFile(path)
			if err != nil {
				t.Error(err)
			}
			got[i] = k
		})
	}
	wg.Wait()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	for i := range got {
		if len(got[i]) != 1 || vault.MasterID(got[i][0]) != vault.MasterID(got[0][0]) {
			t.Fatalf("concurrent first starts disagree on the key")
		}
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := vault.LoadOrCreateKeyFile(path); err == nil {
		t.Fatal("a world-readable key file was accepted")
	}
}
