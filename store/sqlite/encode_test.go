package sqlite

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/actionvector/tasks/taskcreate"
)

// The pairs and rows reach SQLite as JSON this package writes itself: every
// string must come back from a JSON parser exactly as it went in.
func TestAppendJSONStringRoundTrips(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and backslash \`, "tab\tnewline\ncontrol\x01\x1f", "accents é ü 日本",
		"line separator \u2028", "emoji 🙂", "<html>&amp;", strings.Repeat("x", 300),
	} {
		var got string
		encoded := appendJSONString(nil, s)
		if err := json.Unmarshal(encoded, &got); err != nil {
			t.Errorf("%q encodes as %s, which is not JSON: %v", s, encoded, err)
			continue
		}
		if got != s {
			t.Errorf("%q encodes as %s, which decodes as %q", s, encoded, got)
		}
	}
}

func TestAppendJSONStringReplacesInvalidUTF8(t *testing.T) {
	var got string
	if err := json.Unmarshal(appendJSONString(nil, "a\xffb"), &got); err != nil {
		t.Fatal(err)
	}
	if got != "a\uFFFDb" {
		t.Errorf("invalid UTF-8: got %q, want %q", got, "a\uFFFDb")
	}
}

func TestAppendPairs(t *testing.T) {
	pairs := []taskcreate.Pair{{ShopID: `s"1`, VariantID: "v\\1"}, {ShopID: "s2", VariantID: "v2"}}
	var got [][2]string
	if err := json.Unmarshal(appendPairs(nil, pairs), &got); err != nil {
		t.Fatal(err)
	}
	want := [][2]string{{`s"1`, "v\\1"}, {"s2", "v2"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %q, want %q ([shop, variant] per pair)", got, want)
	}
	if string(appendPairs(nil, nil)) != "[]" {
		t.Errorf("no pairs: got %s, want []", appendPairs(nil, nil))
	}
}
