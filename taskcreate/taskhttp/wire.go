package taskhttp

import "github.com/actionvector/tasks/taskcreate"

// Path is the canonical path of the endpoint.
const Path = "/api/data-platform/workflow-actions/task-create"

// RequestBody is the JSON body of a request, for clients that send one.
// A nil Domains or Perimeter encodes as null, which the endpoint rejects as
// missing; send empty slices instead.
type RequestBody struct {
	OrganizationID string              `json:"organizationId"`
	WorkflowRunID  string              `json:"workflowRunId"`
	Domains        []taskcreate.Domain `json:"domains"`
	MinConfidence  float64             `json:"minConfidence"`
	Perimeter      []Pair              `json:"perimeter"`
}

// Pair is one position of a perimeter on the wire.
type Pair struct {
	VariantID string `json:"variantId"`
	ShopID    string `json:"shopId"`
}

// NewRequestBody returns the wire form of req. Nil slices become empty ones,
// so that a request the service accepts is also accepted over HTTP.
func NewRequestBody(req taskcreate.Request) RequestBody {
	b := RequestBody{
		OrganizationID: req.OrganizationID,
		WorkflowRunID:  req.WorkflowRunID,
		Domains:        append([]taskcreate.Domain{}, req.Domains...),
		MinConfidence:  req.MinConfidence,
		Perimeter:      make([]Pair, len(req.Perimeter)),
	}
	for i, p := range req.Perimeter {
		b.Perimeter[i] = Pair{VariantID: p.VariantID, ShopID: p.ShopID}
	}
	return b
}

// Response is the envelope of every response: Data on success; Error,
// ErrorCode and FieldErrors on failure.
type Response struct {
	Success     bool          `json:"success"`
	Data        *ResponseData `json:"data,omitempty"`
	Error       string        `json:"error,omitempty"`
	ErrorCode   string        `json:"errorCode,omitempty"`
	FieldErrors []FieldError  `json:"fieldErrors,omitempty"`
}

// ResponseData is the result of a successful call on the wire.
type ResponseData struct {
	Created       int    `json:"created"`
	Updated       int    `json:"updated"`
	Suppressed    int    `json:"suppressed"`
	Skipped       int    `json:"skipped"`
	Unmatched     int    `json:"unmatched"`
	SuccessCode   string `json:"successCode"`
	WorkflowRunID string `json:"workflowRunId"`
}

// FieldError is one problem with one field of the request body, named by
// its JSON path ("" for the body as a whole).
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}
