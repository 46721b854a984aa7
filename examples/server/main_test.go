package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/examples/openapi/client"
	"github.com/actionvector/tasks/store/sqlite"
	"github.com/actionvector/tasks/taskcreate"
	"github.com/actionvector/tasks/taskcreate/taskhttp"
)

const (
	testToken    = "example-server-token"
	organization = "550e8400-e29b-41d4-a716-446655440001"
	run          = "workflow-run-uuid-abc123"
)

// newServer serves newHandler on an in-memory store holding today's
// restock recommendations for the two pairs of the endpoint's reference
// request, confident enough for its minConfidence of 0.6.
func newServer(t *testing.T) *httptest.Server {
	ctx := t.Context()
	store, err := sqlite.Open(ctx, ":memory:")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	day := time.Now().UTC().Truncate(24 * time.Hour)
	restock := func(variant, shop string, qty int, confidence float64) taskcreate.ActionVector {
		return taskcreate.ActionVector{OrganizationID: organization, VariantID: variant, ShopID: shop, SnapshotDate: day,
			Domain: taskcreate.Restock, RecommendedQty: &qty, Confidence: &confidence, Snapshot: json.RawMessage(`{"daysOfCover":1.5}`)}
	}
	require.NoError(t, store.PutActionVectors(ctx, []taskcreate.ActionVector{
		restock("variant-uuid-1", "shop-uuid-1", 24, 0.91),
		restock("variant-uuid-2", "shop-uuid-2", 10, 0.78),
	}))
	h, err := newHandler(taskcreate.New(store), testToken)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// withToken sends the bearer token with every request of the client.
func withToken(token string) client.ClientOption {
	return client.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	})
}

// The client generated from the document makes the endpoint's reference
// request, then sweeps the run it created tasks for.
func TestGeneratedClient(t *testing.T) {
	srv := newServer(t)
	c, err := client.NewClientWithResponses(srv.URL, withToken(testToken))
	require.NoError(t, err)

	created, err := c.CreateTasksWithResponse(t.Context(), client.CreateRequest{
		OrganizationId: organization,
		WorkflowRunId:  run,
		Domains:        []client.Domain{client.Restock},
		MinConfidence:  0.6,
		Perimeter:      []client.Pair{{VariantId: "variant-uuid-1", ShopId: "shop-uuid-1"}, {VariantId: "variant-uuid-2", ShopId: "shop-uuid-2"}},
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, created.StatusCode(), "body: %s", created.Body)
	require.NotNil(t, created.JSON200)
	assert.Equal(t, client.CreateResult{Created: 2, SuccessCode: client.CreateResultSuccessCodeWORKFLOWTASKSCREATED, WorkflowRunId: run},
		created.JSON200.Data)
	assert.Equal(t, "no-store", created.Headers200.CacheControl)

	for _, dryRun := range []bool{true, false} {
		swept, err := c.SweepRunWithResponse(t.Context(), client.SweepRequest{OrganizationId: organization, WorkflowRunId: run, DryRun: &dryRun})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, swept.StatusCode(), "body: %s", swept.Body)
		require.NotNil(t, swept.JSON200)
		code := client.SweepResultSuccessCodeWORKFLOWTASKSSWEPT
		if dryRun {
			code = client.SweepResultSuccessCodeWORKFLOWTASKSPREVIEWED
		}
		assert.Equal(t, client.SweepResult{Dismissed: 2, SuccessCode: code, WorkflowRunId: run}, swept.JSON200.Data, "dry run %v", dryRun)
	}
}

// The document is served without the token; the endpoints are not.
func TestOpenAPIDocumentIsPublic(t *testing.T) {
	srv := newServer(t)
	res, err := http.Get(srv.URL + "/openapi.yaml")
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "application/yaml", res.Header.Get("Content-Type"))
	assert.Equal(t, taskhttp.OpenAPI(), body)

	c, err := client.NewClientWithResponses(srv.URL)
	require.NoError(t, err)
	refused, err := c.CreateTasksWithResponse(t.Context(), client.CreateRequest{OrganizationId: organization, WorkflowRunId: run,
		Domains: []client.Domain{client.Restock}, Perimeter: []client.Pair{}})
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, refused.StatusCode(), "body: %s", refused.Body)
	require.NotNil(t, refused.JSON401)
	assert.Equal(t, client.UNAUTHORIZED, refused.JSON401.ErrorCode)
	assert.NotEmpty(t, refused.JSON401.Error)
	assert.Equal(t, "Bearer", refused.Headers401.WWWAuthenticate)
}
