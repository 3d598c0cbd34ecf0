package web_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The pages' Content-Security-Policy (default-src 'self') blocks inline
// styles and scripts, so a template that uses them renders wrong (the
// Automation page's "Test with" buttons stacked). No template may.
func TestTemplatesHaveNoInlineStyleOrScript(t *testing.T) {
	t.Parallel()
	inline := regexp.MustCompile(`(?i)\sstyle="|<style|<script>|\son[a-z]+="`)
	n := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".html") || !strings.Contains(filepath.ToSlash(path), "/templates/") {
			return err
		}
		n++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if loc := inline.FindIndex(b); loc != nil {
			t.Errorf("%s: inline style or script the CSP blocks: %q", path, b[loc[0]:min(len(b), loc[1]+30)])
		}
		return nil
	})
	if err != nil || n < 10 {
		t.Fatalf("walked %d templates: %v", n, err)
	}
}
