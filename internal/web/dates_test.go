package web_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/web"
)

func TestFormatTime(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 1, 9, 5, 7, 0, time.FixedZone("CET", 3600))
	if got := web.FormatTime(at); got != "2026-03-01 08:05 UTC" {
		t.Errorf("FormatTime = %q", got)
	}
	if got := web.FormatTime(time.Time{}); got != "never" {
		t.Errorf("zero time = %q", got)
	}
}

// Every page shows times one way: templates call "date" instead of a format
// of their own (a machine-readable datetime attribute is fine).
func TestTemplatesUseOneDateFormat(t *testing.T) {
	t.Parallel()
	own := regexp.MustCompile(`\.Format "[^"]*"|fmtTime`)
	attr := regexp.MustCompile(`datetime="\{\{[^}]*\.Format "2006-01-02T15:04:05Z07:00"\}\}"`)
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".html") || strings.Contains(filepath.ToSlash(path), "/workflow/") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if m := own.Find(attr.ReplaceAll(b, nil)); m != nil {
			t.Errorf("%s formats a time itself (%s); use {{date ...}}", path, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
