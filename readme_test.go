package tasks_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestReadmeSnippetsAreCompiled checks that every ```go block of README.md
// is code the tests compile: its lines, trimmed and without blank lines,
// must appear as consecutive lines of a *_test.go file (an Example) or of a
// file of the examples module.
func TestReadmeSnippetsAreCompiled(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := goBlocks(string(readme))
	if len(blocks) == 0 {
		t.Fatal("README.md has no ```go block")
	}

	var sources [][]string
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir // .git, .ci
		}
		inExamples := strings.HasPrefix(filepath.ToSlash(path), "examples/")
		if d.IsDir() || !strings.HasSuffix(path, ".go") || !(inExamples || strings.HasSuffix(path, "_test.go")) {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sources = append(sources, codeLines(string(src)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	for _, b := range blocks {
		want := codeLines(b.code)
		if len(want) == 0 {
			t.Errorf("README.md:%d: empty go block", b.line)
			continue
		}
		if !slices.ContainsFunc(sources, func(src []string) bool { return containsRun(src, want) }) {
			t.Errorf("README.md:%d: the go block starting %q is not in any *_test.go or examples/ file", b.line, want[0])
		}
	}
}

// block is a fenced code block of the README and the line it starts on.
type block struct {
	line int
	code string
}

// goBlocks returns the ```go blocks of a Markdown text.
func goBlocks(markdown string) []block {
	var blocks []block
	var current *block
	for i, line := range strings.Split(markdown, "\n") {
		fence := strings.TrimSpace(line)
		switch {
		case current == nil && fence == "```go":
			current = &block{line: i + 1}
		case current != nil && fence == "```":
			blocks = append(blocks, *current)
			current = nil
		case current != nil:
			current.code += line + "\n"
		}
	}
	return blocks
}

// codeLines returns the lines of code, trimmed of their indentation, blank
// lines left out.
func codeLines(code string) []string {
	var lines []string
	for line := range strings.SplitSeq(code, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	return lines
}

// containsRun reports whether want appears in src as consecutive lines.
func containsRun(src, want []string) bool {
	for i := 0; i+len(want) <= len(src); i++ {
		if slices.Equal(src[i:i+len(want)], want) {
			return true
		}
	}
	return false
}
