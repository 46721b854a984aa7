package openapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/taskcreate/taskhttp"
)

// exchangesFile is where the handlers' tests record what they sent and got.
const exchangesFile = "../../taskcreate/taskhttp/testdata/exchanges.json"

// recordedToken is how the exchanges write the handlers' token.
const recordedToken = "<token>"

// exchange is one entry of exchangesFile.
type exchange struct {
	Test     string  `json:"test"`
	Request  message `json:"request"`
	Response message `json:"response"`
}

// message is a request (Method, Path, ContentLength) or a response
// (Status). A body that is not valid UTF-8 is recorded in base64; one whose
// reading failed (Incomplete: it stopped arriving) is the bytes that
// arrived, which are what the document judges.
type message struct {
	Method        string      `json:"method"`
	Path          string      `json:"path"`
	Status        int         `json:"status"`
	Header        http.Header `json:"header"`
	ContentLength *int64      `json:"contentLength"` // -1: sent chunked
	Body          string      `json:"body"`
	BodyBase64    bool        `json:"bodyBase64"`
	Incomplete    bool        `json:"bodyIncomplete"`
}

// body is the bytes of m's body.
func (m message) body(t *testing.T) []byte {
	if !m.BodyBase64 {
		return []byte(m.Body)
	}
	b, err := base64.StdEncoding.DecodeString(m.Body)
	require.NoError(t, err)
	return b
}

// Why the document accepts a request the handler refuses.
const (
	notOneJSONText = "application/json is one JSON text (RFC 8259, 2), and the validator decodes the first value of the body, ignoring what follows it"
	notUTF8        = "a JSON text is UTF-8 (RFC 8259, 8.1), and the handler refuses a string that is not, or that escapes half a surrogate pair alone, " +
		"lest different bytes become the same id; a schema sees the decoded value, where both are U+FFFD"
	duplicateName = "JSON leaves a member that appears twice to the reader (RFC 8259, 4); the handler refuses it, and a schema sees one decoded value"
	bodyLimit     = "the body limit is an option of the handler (Options.MaxBodyBytes), which this test sets below the seed body; a document gives no size of body"
	mediaTypeArgs = "the handler refuses a charset other than utf-8 and a malformed parameter; the validator matches the media type without its parameters"
	twoHeaders    = "the validator reads the first Content-Type header; the handler refuses two, as a proxy may have read the other"
	tooManyCalls  = "a valid request refused for the handler's load (Options.MaxConcurrentCalls), not for what it is"
	serverState   = "a valid request whose store failed or refused it (a retirement over budget), or whose context was cancelled or passed its deadline: the answer is the server's state, not the request's"
)

// exceptions are the exchanges, by test and status, whose request the
// document accepts though the handler did not answer 200, each with why a
// document cannot say what the handler did. Each must still disagree: one
// that agrees again is to be removed from the list.
var exceptions = map[string]string{
	"TestHandler/trailing_garbage 400":                                               notOneJSONText,
	"TestHandler/two_objects 400":                                                    notOneJSONText,
	"TestHandler/invalid_UTF-8_in_organizationId 400":                                notUTF8,
	"TestHandler/lone_surrogate_in_a_shopId 400":                                     notUTF8,
	"TestHandler/duplicate_option 400":                                               duplicateName,
	"TestHandler/duplicate_top-level_field 400":                                      duplicateName,
	"TestHandler/duplicate_pair_field 400":                                           duplicateName,
	"TestHandler/body_over_the_limit,_length_known 413":                              bodyLimit,
	"TestHandler/body_over_the_limit,_chunked 413":                                   bodyLimit,
	"TestHandler/trailing_whitespace_over_the_limit 413":                             bodyLimit,
	"TestHandler/another_charset 415":                                                mediaTypeArgs,
	"TestHandler/malformed_content_type 415":                                         mediaTypeArgs,
	"TestHandler/two_Content-Type_headers 415":                                       twoHeaders,
	"TestHandlerMaxConcurrentCalls 429":                                              tooManyCalls,
	"TestHandlerStoreFailures/store_error 500":                                       serverState,
	"TestHandlerStoreFailures/transient_store_error_after_every_retry 503":           serverState,
	"TestHandlerStoreFailures/connection_lost_while_committing 500":                  serverState,
	"TestHandlerStoreFailures/connection_lost_while_committing_a_cancelled_call 500": serverState,
	"TestHandlerStoreFailures/store_miscounts 500":                                   serverState,
	"TestHandlerStoreFailures/Options.Timeout_passes 504":                            serverState,
	"TestHandlerStoreFailures/request_cancelled 503":                                 serverState,
	"TestHandlerStoreFailures/store_reports_cancellation 503":                        serverState,
	"TestHandlerStoreFailures/store_reports_a_deadline 504":                          serverState,
	"TestHandlerRetireBudgetExceeded 409":                                            serverState,
}

// bearer checks the document's bearer scheme as the server does, with the
// token the server knows: one Authorization header (a singleton field,
// RFC 9110 5.3), the scheme name in any case (RFC 9110 11.1), then the
// token.
func bearer(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecurityScheme.Type != "http" || in.SecurityScheme.Scheme != "bearer" {
		return errors.New("the document's scheme is not bearer")
	}
	values := in.RequestValidationInput.Request.Header.Values("Authorization")
	if len(values) != 1 {
		return errors.New("not one Authorization header")
	}
	scheme, token, _ := strings.Cut(values[0], " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimLeft(token, " ") != recordedToken {
		return errors.New("not the bearer token")
	}
	return nil
}

// newRouter finds the operations of taskhttp's document, which must be
// valid.
func newRouter(t *testing.T) routers.Router {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(taskhttp.OpenAPI())
	require.NoError(t, err)
	require.NoError(t, doc.Validate(t.Context()))
	router, err := legacy.NewRouter(doc)
	require.NoError(t, err)
	return router
}

func TestExchangesFollowTheDocument(t *testing.T) {
	router := newRouter(t)
	data, err := os.ReadFile(exchangesFile)
	require.NoError(t, err)
	var recorded map[string][]exchange
	require.NoError(t, json.Unmarshal(data, &recorded))

	validated := map[string]int{} // by path
	disagreed := map[string]bool{}
	for _, test := range slices.Sorted(maps.Keys(recorded)) {
		for _, e := range recorded[test] {
			t.Run(e.Test, func(t *testing.T) {
				req := newRequest(t, e.Request)
				accepted, why := validateRequest(t, router, req)
				route := postRoute(t, router, e.Request)
				key := e.Test + " " + strconv.Itoa(e.Response.Status)
				if reason, ok := exceptions[key]; ok {
					disagreed[key] = accepted != (e.Response.Status == http.StatusOK)
					assert.True(t, disagreed[key], "the document now agrees with the handler on %s, an exception (%s): remove it from the list", key, reason)
				} else {
					assert.Equal(t, e.Response.Status == http.StatusOK, accepted,
						"the handler answered %d, and the document says of the request: %v", e.Response.Status, why)
				}

				res := &openapi3filter.ResponseValidationInput{
					RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: route},
					Status:                 e.Response.Status,
					Header:                 e.Response.Header,
					Body:                   io.NopCloser(bytes.NewReader(e.Response.body(t))),
					Options:                &openapi3filter.Options{IncludeResponseStatus: true},
				}
				if assert.NoError(t, openapi3filter.ValidateResponse(t.Context(), res), "the response: %s", e.Response.Body) {
					validated[route.Path]++
				}
			})
		}
	}
	for name, reason := range exceptions {
		_, seen := disagreed[name]
		assert.True(t, seen, "exception %q (%s) names no exchange", name, reason)
	}
	t.Logf("validated %d exchanges of task-create and %d of task-sweep", validated[taskhttp.Path], validated[taskhttp.SweepPath])
	assert.Positive(t, validated[taskhttp.Path], "no exchange of task-create was validated")
	assert.Positive(t, validated[taskhttp.SweepPath], "no exchange of task-sweep was validated")
}

// newRequest is the recorded request m, as sent.
func newRequest(t *testing.T, m message) *http.Request {
	req, err := http.NewRequestWithContext(t.Context(), m.Method, "http://tasks.test"+m.Path, bytes.NewReader(m.body(t)))
	require.NoError(t, err)
	req.Header = m.Header.Clone()
	if m.ContentLength != nil {
		req.ContentLength = *m.ContentLength
	}
	return req
}

// validateRequest reports whether the document accepts req, and if not why.
func validateRequest(t *testing.T, router routers.Router, req *http.Request) (bool, error) {
	route, params, err := router.FindRoute(req)
	if err != nil {
		return false, err
	}
	err = openapi3filter.ValidateRequest(t.Context(), &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: bearer, MultiError: true},
	})
	return err == nil, err
}

// postRoute is the operation of m's path, whatever its method: a request
// of another one is answered by the POST operation's 405.
func postRoute(t *testing.T, router routers.Router, m message) *routers.Route {
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://tasks.test"+m.Path, nil)
	require.NoError(t, err)
	route, _, err := router.FindRoute(req)
	require.NoError(t, err, "no operation at %s", m.Path)
	return route
}
