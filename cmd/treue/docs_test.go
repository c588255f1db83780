package main

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// The documents: README.md and everything under docs/.
func docFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"../../README.md"}
	err := filepath.WalkDir("../../docs", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".md") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

var (
	mdLink     = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]+)\)`)
	inlineCode = regexp.MustCompile("`[^`]*`")
)

// mdProse returns the lines of a Markdown file outside fenced code blocks,
// with inline code blanked, and its headings' anchors as GitHub makes them.
func mdProse(b []byte) (lines []string, anchors map[string]bool) {
	anchors = map[string]bool{}
	fenced := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			lines = append(lines, "")
			continue
		}
		if fenced {
			lines = append(lines, "")
			continue
		}
		if h, ok := strings.CutPrefix(line, "#"); ok {
			anchors[githubAnchor(strings.TrimLeft(h, "#"))] = true
		}
		lines = append(lines, inlineCode.ReplaceAllString(line, "``"))
	}
	return lines, anchors
}

// githubAnchor is the id GitHub gives a heading: lower case, punctuation
// dropped, spaces as hyphens (inline code keeps its text).
func githubAnchor(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// TestDocs_LinksResolve: every relative link in README.md and docs/ names a
// file or directory that exists, and a link to a heading (#anchor, in the
// same document or another) names a heading that exists.
func TestDocs_LinksResolve(t *testing.T) {
	anchorsOf := map[string]map[string]bool{}
	prose := map[string][]string{}
	files := docFiles(t)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		abs, _ := filepath.Abs(f)
		prose[f], anchorsOf[abs] = mdProse(b)
	}
	for _, f := range files {
		for i, line := range prose[f] {
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				path, anchor, _ := strings.Cut(target, "#")
				file := f
				if path != "" {
					file = filepath.Join(filepath.Dir(f), path)
					if _, err := os.Stat(file); err != nil {
						t.Errorf("%s:%d: link to %s: no such file", f, i+1, target)
						continue
					}
				}
				if anchor == "" {
					continue
				}
				abs, _ := filepath.Abs(file)
				if a, ok := anchorsOf[abs]; ok && !a[anchor] {
					t.Errorf("%s:%d: link to %s: %s has no heading #%s", f, i+1, target, file, anchor)
				}
			}
		}
	}
}

// TestDocs_ReadmeShort: the README stays an entry point (what Treue is, the
// two commands, connecting each platform, the commands table, links); the
// rest belongs in docs/.
func TestDocs_ReadmeShort(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte("\n")); n > 200 {
		t.Errorf("README.md has %d lines: move detail into docs/ and link it (at most 200)", n)
	}
	for _, must := range []string{"go run ./cmd/treue --config examples/treue.yaml serve", "go test -race ./...", "TREUE_TEST_MYSQL_DSN="} {
		if !bytes.Contains(b, []byte(must)) {
			t.Errorf("README.md does not show %q", must)
		}
	}
}

// TestDocs_EveryDocLinked: every document under docs/ is reachable from
// README.md, directly or through another document.
func TestDocs_EveryDocLinked(t *testing.T) {
	files := docFiles(t)
	linked := map[string]bool{}
	queue := []string{"../../README.md"}
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		abs, _ := filepath.Abs(f)
		if linked[abs] {
			continue
		}
		linked[abs] = true
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		lines, _ := mdProse(b)
		for _, line := range lines {
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				path, _, _ := strings.Cut(m[1], "#")
				if path != "" && strings.HasSuffix(path, ".md") && !strings.Contains(path, "://") {
					queue = append(queue, filepath.Join(filepath.Dir(f), path))
				}
			}
		}
	}
	for _, f := range files {
		if abs, _ := filepath.Abs(f); !linked[abs] {
			t.Errorf("%s is not linked from README.md or any document it links", f)
		}
	}
}
