package taskhttp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/actionvector/tasks/taskcreate"
)

// largeBody is a valid body with n distinct pairs.
func largeBody(tb testing.TB, n int) []byte {
	tb.Helper()
	req := taskcreate.Request{OrganizationID: "org-1", WorkflowRunID: "run-1",
		Domains: []taskcreate.Domain{taskcreate.Restock}, MinConfidence: 0.6}
	for i := range n {
		req.Perimeter = append(req.Perimeter, taskcreate.Pair{
			VariantID: fmt.Sprintf("variant-%07d", i), ShopID: fmt.Sprintf("shop-%04d", i%1000)})
	}
	body, err := json.Marshal(NewRequestBody(req))
	if err != nil {
		tb.Fatal(err)
	}
	return body
}

func BenchmarkDecodeRequest100k(b *testing.B) {
	body := largeBody(b, 100_000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req, err := DecodeRequest(bytes.NewReader(body))
		if err != nil || len(req.Perimeter) != 100_000 {
			b.Fatal(err, len(req.Perimeter))
		}
	}
}

// BenchmarkUnmarshalStruct100k is the floor: encoding/json into plain structs,
// with none of DecodeRequest's strictness.
func BenchmarkUnmarshalStruct100k(b *testing.B) {
	body := largeBody(b, 100_000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var rb RequestBody
		if err := json.Unmarshal(body, &rb); err != nil {
			b.Fatal(err)
		}
	}
}
