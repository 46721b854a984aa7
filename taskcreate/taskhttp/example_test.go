package taskhttp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/actionvector/tasks/store/sqlite"
	"github.com/actionvector/tasks/taskcreate"
	"github.com/actionvector/tasks/taskcreate/taskhttp"
)

// The handler mounted on a standard library ServeMux, answering the
// original endpoint's reference request. Other routers mount the same
// http.Handler without this module depending on them; the examples
// module's routers package mounts both endpoints on chi, gin and echo, with
// the routers' own 404 and 405 in the envelope too.
func Example() {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if err := store.PutActionVectors(ctx, recommendations()); err != nil {
		log.Fatal(err)
	}

	h, err := taskhttp.NewHandler(taskcreate.New(store), taskhttp.Options{
		Token: "example-token", // in a service: os.Getenv("TASKS_INTERNAL_TOKEN")
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	// With the method in the pattern, ServeMux answers other methods itself;
	// mux.Handle(taskhttp.Path, h) leaves them to the handler's JSON 405.
	mux.Handle("POST "+taskhttp.Path, h)

	body := `{"domains":["restock"],"minConfidence":0.6,"organizationId":"550e8400-e29b-41d4-a716-446655440001",` +
		`"perimeter":[{"shopId":"shop-uuid-1","variantId":"variant-uuid-1"},{"shopId":"shop-uuid-2","variantId":"variant-uuid-2"}],` +
		`"workflowRunId":"workflow-run-uuid-abc123"}`
	// Sent twice: the same request again refreshes the two tasks instead.
	for range 2 {
		r := httptest.NewRequest(http.MethodPost, taskhttp.Path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer example-token")
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Body)
	}
	// Output:
	// 200 {"success":true,"data":{"created":2,"updated":0,"suppressed":0,"skipped":0,"unmatched":0,"successCode":"WORKFLOW_TASKS_CREATED","workflowRunId":"workflow-run-uuid-abc123"}}
	// 200 {"success":true,"data":{"created":0,"updated":2,"suppressed":0,"skipped":0,"unmatched":0,"successCode":"WORKFLOW_TASKS_CREATED","workflowRunId":"workflow-run-uuid-abc123"}}
}

// A service with its own authentication and limits builds the endpoint from
// DecodeRequestWithLimits (or DecodeRequest), WriteResult and WriteError,
// keeping the wire format and the mapping from errors to statuses.
func ExampleDecodeRequest() {
	store, err := sqlite.Open(context.Background(), ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	svc := taskcreate.New(store)

	createTasks := func(w http.ResponseWriter, r *http.Request) {
		// The service's own middleware has authenticated the caller. With the
		// service's limits, an oversized request is refused as it is read.
		req, err := taskhttp.DecodeRequestWithLimits(http.MaxBytesReader(w, r.Body, taskhttp.DefaultMaxBodyBytes), svc.Limits())
		if err != nil {
			taskhttp.WriteError(w, err)
			return
		}
		res, err := svc.CreateTasks(r.Context(), req)
		if err != nil {
			taskhttp.WriteError(w, err)
			return
		}
		taskhttp.WriteResult(w, req, res)
	}

	r := httptest.NewRequest(http.MethodPost, taskhttp.Path, strings.NewReader(
		`{"organizationId":"org-1","domains":["restock","weekly"],"perimeter":[{"variantId":"v1","shopID":"s1"}]}`))
	w := httptest.NewRecorder()
	createTasks(w, r)
	fmt.Println(w.Code)
	var resp taskhttp.Response
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.ErrorCode)
	for _, f := range resp.FieldErrors {
		fmt.Printf("%s: %s %s\n", f.Field, f.Code, f.Message)
	}
	// Output:
	// 400
	// VALIDATION_ERROR
	// perimeter[0].shopID: VALIDATION_ERROR is not a known field
	// perimeter[0].shopId: MISSING_REQUIRED_FIELD is required
	// workflowRunId: MISSING_REQUIRED_FIELD is required
	// minConfidence: MISSING_REQUIRED_FIELD is required
}

// A Go client sends the wire types and reads the envelope.
func ExampleNewRequestBody() {
	req := taskcreate.Request{OrganizationID: "550e8400-e29b-41d4-a716-446655440001", WorkflowRunID: "workflow-run-uuid-abc123"}
	req.Domains, req.MinConfidence = []taskcreate.Domain{taskcreate.Restock}, 0.6
	req.Perimeter = []taskcreate.Pair{{VariantID: "variant-uuid-1", ShopID: "shop-uuid-1"}}
	body, err := json.Marshal(taskhttp.NewRequestBody(req))
	if err != nil {
		log.Fatal(err)
	}
	os.Stdout.Write(append(body, '\n'))
	// Output:
	// {"organizationId":"550e8400-e29b-41d4-a716-446655440001","workflowRunId":"workflow-run-uuid-abc123","domains":["restock"],"minConfidence":0.6,"perimeter":[{"variantId":"variant-uuid-1","shopId":"shop-uuid-1"}]}
}

// recommendations are the latest restock recommendations for the two pairs
// of the reference request: confident enough, with units to reorder.
func recommendations() []taskcreate.ActionVector {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	qty1, qty2, conf1, conf2 := 24, 10, 0.91, 0.78
	return []taskcreate.ActionVector{
		{OrganizationID: "550e8400-e29b-41d4-a716-446655440001", VariantID: "variant-uuid-1", ShopID: "shop-uuid-1",
			SnapshotDate: day, Domain: taskcreate.Restock, RecommendedQty: &qty1, Confidence: &conf1,
			Snapshot: json.RawMessage(`{"daysOfCover":1.5}`)},
		{OrganizationID: "550e8400-e29b-41d4-a716-446655440001", VariantID: "variant-uuid-2", ShopID: "shop-uuid-2",
			SnapshotDate: day, Domain: taskcreate.Restock, RecommendedQty: &qty2, Confidence: &conf2,
			Snapshot: json.RawMessage(`{"daysOfCover":3}`)},
	}
}
