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

func TestPendingIsWhatLiesAboveTheVersion(t *testing.T) {
	ms := []migration.Migration{{Version: 1, Name: "1_a.sql"}, {Version: 2, Name: "2_b.sql"}, {Version: 5, Name: "5_c.sql"}}
	tests := []struct {
		current int
		want    string
	}{
		{current: 0, want: "1_a.sql 2_b.sql 5_c.sql"},
		{current: 1, want: "2_b.sql 5_c.sql"},
		{current: 3, want: "5_c.sql"}, // a version between two known ones
		{current: 5, want: ""},
	}
	for _, tt := range tests {
		pending, err := migration.Pending(ms, tt.current)
		if err != nil {
			t.Fatalf("Pending at %d: %v", tt.current, err)
		}
		var names []string
		for _, m := range pending {
			names = append(names, m.Name)
		}
		if got := strings.Join(names, " "); got != tt.want {
			t.Errorf("Pending at %d: got %q, want %q", tt.current, got, tt.want)
		}
	}
	if _, err := migration.Pending(ms, 6); err == nil || !strings.Contains(err.Error(), "version 6 is newer than this library's 5") {
		t.Errorf("Pending above the latest: want an error naming both versions, got %v", err)
	}
}
