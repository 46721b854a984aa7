package taskhttp

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/taskcreate"
)

func TestSweepHandler(t *testing.T) {
	const (
		missing = CodeMissingRequiredField
		invalid = CodeValidationError
	)
	golden := recordExchanges(t)
	sweepBody := `{"organizationId":"` + seedOrg + `","workflowRunId":"` + seedRun + `"}`
	tests := []struct {
		name       string
		body       string
		token      string
		wantStatus int
		wantBody   string   // on 200
		wantCode   string   // on errors
		wantFields []string // "field code"
	}{
		{name: "sweep", body: sweepBody, wantStatus: 200,
			wantBody: `{"success":true,"data":{"dismissed":2,"successCode":"WORKFLOW_TASKS_SWEPT","workflowRunId":"` + seedRun + `"}}`},
		{name: "dry run", body: strings.Replace(sweepBody, "}", `,"dryRun":true}`, 1), wantStatus: 200,
			wantBody: `{"success":true,"data":{"dismissed":2,"successCode":"WORKFLOW_TASKS_PREVIEWED","workflowRunId":"` + seedRun + `"}}`},
		{name: "another run", body: strings.Replace(sweepBody, seedRun, "run-none", 1), wantStatus: 200,
			wantBody: `{"success":true,"data":{"dismissed":0,"successCode":"WORKFLOW_TASKS_SWEPT","workflowRunId":"run-none"}}`},
		{name: "wrong token", body: sweepBody, token: "wrong", wantStatus: 401, wantCode: CodeUnauthorized},
		{name: "missing ids", body: `{"dryRun":true}`, wantStatus: 400, wantCode: missing,
			wantFields: []string{"organizationId " + missing, "workflowRunId " + missing}},
		{name: "bad JSON types and fields", body: `{"organizationId":"o","workflowRunId":"r","dryRun":"no","perimeter":[]}`, wantStatus: 400, wantCode: invalid,
			wantFields: []string{"dryRun " + invalid, "perimeter " + invalid}},
		{name: "bad ids", body: `{"organizationId":" ","workflowRunId":"run\u0001"}`, wantStatus: 400, wantCode: invalid,
			wantFields: []string{"organizationId " + missing, "workflowRunId " + invalid}},
		{name: "not an object", body: `[]`, wantStatus: 400, wantCode: invalid, wantFields: []string{" " + invalid}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newSeededStore(t)
			svc := taskcreate.New(store)
			_, err := svc.CreateTasks(t.Context(), taskcreate.Request{OrganizationID: seedOrg, WorkflowRunID: seedRun,
				Domains: []taskcreate.Domain{taskcreate.Restock}, MinConfidence: 0.6,
				Perimeter: []taskcreate.Pair{{VariantID: "variant-uuid-1", ShopID: "shop-uuid-1"}, {VariantID: "variant-uuid-2", ShopID: "shop-uuid-2"}}})
			require.NoError(t, err)
			h, err := NewSweepHandler(svc, Options{Token: testToken})
			require.NoError(t, err)
			token := tt.token
			if token == "" {
				token = testToken
			}
			w := serve(golden.wrap(t, h), newRequest(SweepPath, token, strings.NewReader(tt.body)))

			require.Equal(t, tt.wantStatus, w.Code, "body: %s", w.Body)
			assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
			if tt.wantStatus == http.StatusOK {
				assert.Equal(t, tt.wantBody, w.Body.String())
				return
			}
			resp := decodeResponse(t, w)
			assert.Equal(t, tt.wantCode, resp.ErrorCode)
			assert.ElementsMatch(t, tt.wantFields, responseFields(t, resp))
		})
	}
	_, err := NewSweepHandler(nil, Options{Token: testToken})
	assert.ErrorContains(t, err, "NewSweepHandler: nil")
}
