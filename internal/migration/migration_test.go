package migration_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/actionvector/tasks/internal/migration"
)

func text(fsys fstest.MapFS) func(string) (string, error) {
	return func(file string) (string, error) {
		b, err := fsys.ReadFile(file)
		return string(b), err
	}
}

func TestLoadOrdersByVersion(t *testing.T) {
	fsys := fstest.MapFS{
		"m/10_later.sql": {Data: []byte("C")},
		"m/2_second.sql": {Data: []byte("B")},
		"m/1_first.sql":  {Data: []byte("A")},
		"m/notes.txt":    {Data: []byte("ignored")},
	}
	ms, err := migration.Load(fsys, "m/*.sql", text(fsys))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.Name+"="+m.SQL)
	}
	if want := "1_first.sql=A 2_second.sql=B 10_later.sql=C"; strings.Join(got, " ") != want {
		t.Errorf("got %v, want %s", got, want)
	}
	if migration.Latest(ms) != 10 {
		t.Errorf("latest version: got %d, want 10", migration.Latest(ms))
	}
}

func TestLoadRejectsBadSets(t *testing.T) {
	tests := map[string]fstest.MapFS{
		"no version":     {"m/init.sql": {}},
		"version 0":      {"m/0_init.sql": {}},
		"shared version": {"m/1_a.sql": {}, "m/01_b.sql": {}},
		"none":           {"m/readme.txt": {}},
	}
	for name, fsys := range tests {
		if _, err := migration.Load(fsys, "m/*.sql", text(fsys)); err == nil {
			t.Errorf("%s: want an error, got none", name)
		}
	}
}
