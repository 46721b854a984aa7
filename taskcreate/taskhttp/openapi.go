package taskhttp

import (
	_ "embed"
	"net/http"
	"slices"
)

//go:embed openapi.yaml
var openAPI []byte

// OpenAPIPath is where a server conventionally publishes OpenAPI's
// document.
const OpenAPIPath = "/openapi.yaml"

// OpenAPI returns the OpenAPI 3.0 document, in YAML, of both endpoints as
// NewHandler and NewSweepHandler serve them at Path and SweepPath: the
// request and response schemas, every errorCode with its status, and the
// bearer scheme. Each call returns a copy, for the caller to keep or change.
func OpenAPI() []byte {
	return slices.Clone(openAPI)
}

// ServeOpenAPI answers with the document OpenAPI returns, as
// application/yaml, whatever the request: mount it for GET at OpenAPIPath.
// It asks for no token; the document holds no secret.
func ServeOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(openAPI)
}
