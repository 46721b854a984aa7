package taskhttp

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

// The validating libraries stay out of this module: these tests read the
// document with go.yaml.in/yaml/v3, which testify already brings, and
// check it against the package itself. The examples module validates every
// recorded exchange against it (examples/openapi).

// openAPIDoc is the document, read.
func openAPIDoc(t *testing.T) map[string]any {
	t.Helper()
	doc, err := readYAML(string(OpenAPI()))
	require.NoError(t, err)
	m, ok := doc.(map[string]any)
	require.True(t, ok, "the document is not a mapping")
	require.Equal(t, "3.0.3", m["openapi"])
	return m
}

// node is the value at the path of keys from n, "" if there is none;
// a "$ref" on the way is followed.
func node(doc map[string]any, n any, keys ...string) any {
	for _, key := range keys {
		m, _ := n.(map[string]any)
		if ref, ok := m["$ref"].(string); ok {
			n = node(doc, doc, strings.Split(strings.TrimPrefix(ref, "#/"), "/")...)
			m, _ = n.(map[string]any)
		}
		if n = m[key]; n == nil {
			return ""
		}
	}
	return n
}

func list(n any) []string {
	list, _ := n.([]any)
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = fmt.Sprint(v)
	}
	return out
}

func keys(n any) []string {
	m, _ := n.(map[string]any)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sorted(s []string) []string {
	return slices.Sorted(slices.Values(s))
}

// OpenAPI returns a copy of the file, which ServeOpenAPI serves.
func TestOpenAPIAndServeOpenAPI(t *testing.T) {
	file, err := os.ReadFile("openapi.yaml")
	require.NoError(t, err)
	doc := OpenAPI()
	require.Equal(t, file, doc)
	doc[0] = 'X'
	assert.Equal(t, file, OpenAPI(), "OpenAPI returned the package's own bytes")

	w := httptest.NewRecorder()
	ServeOpenAPI(w, httptest.NewRequest(http.MethodGet, OpenAPIPath, nil))
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "application/yaml", w.Header().Get("Content-Type"))
	assert.Equal(t, file, w.Body.Bytes())
}

// Every errorCode the package defines is answered, in the document, with
// the status and the headers WriteError gives it, by every operation that
// can answer it.
func TestOpenAPIErrorCodes(t *testing.T) {
	codes := []struct {
		name, code string
		err        error
	}{
		{"CodeMissingRequiredField", CodeMissingRequiredField, &taskcreate.ValidationError{Fields: []taskcreate.FieldError{{Code: CodeMissingRequiredField}}}},
		{"CodeValidationError", CodeValidationError, &taskcreate.ValidationError{Fields: []taskcreate.FieldError{{Code: CodeValidationError}}}},
		{"CodeUnauthorized", CodeUnauthorized, ErrUnauthorized},
		{"CodeNotFound", CodeNotFound, ErrNotFound},
		{"CodeMethodNotAllowed", CodeMethodNotAllowed, ErrMethodNotAllowed},
		{"CodeRequestTimeout", CodeRequestTimeout, ErrRequestTimeout},
		{"CodePayloadTooLarge", CodePayloadTooLarge, &http.MaxBytesError{Limit: 1}},
		{"CodeUnsupportedMediaType", CodeUnsupportedMediaType, ErrUnsupportedMediaType},
		{"CodeTooManyRequests", CodeTooManyRequests, ErrTooManyRequests},
		{"CodeRetireBudgetExceeded", CodeRetireBudgetExceeded, &taskcreate.RetireBudgetError{}},
		{"CodeDatabaseError", CodeDatabaseError, errors.New("disk I/O error")},
		{"CodeOutcomeUnknown", CodeOutcomeUnknown, taskcreate.ErrOutcomeUnknown},
		{"CodeRequestCancelled", CodeRequestCancelled, context.Canceled},
		{"CodeStoreBusy", CodeStoreBusy, store.MarkTransient(errors.New("database is locked"))},
		{"CodeTimeout", CodeTimeout, context.DeadlineExceeded},
	}
	var names []string
	for _, c := range codes {
		names = append(names, c.name)
	}
	assert.Equal(t, sorted(definedCodes(t)), sorted(names), "the errorCodes of response.go: a new one needs a row here and its response in openapi.yaml")

	// What WriteError answers, by operation and status: each code with
	// the headers it sets beyond the envelope's own.
	doc := openAPIDoc(t)
	want := map[string]map[string]map[string]http.Header{"createTasks": {}, "sweepRun": {}}
	for _, c := range codes {
		status, code := ErrorStatus(c.err)
		require.Equal(t, c.code, code, c.name)
		w := httptest.NewRecorder()
		WriteError(w, c.err)
		header := w.Header().Clone()
		for _, name := range []string{"Content-Type", "Content-Length", "Cache-Control", "X-Content-Type-Options"} {
			header.Del(name)
		}
		for op, byStatus := range want {
			switch {
			case code == CodeNotFound: // a router's answer, at no path of the document
				continue
			case code == CodeRetireBudgetExceeded && op == "sweepRun": // a sweep retires within no budget
				continue
			}
			s := strconv.Itoa(status)
			if byStatus[s] == nil {
				byStatus[s] = map[string]http.Header{}
			}
			byStatus[s][code] = header
		}
	}
	for path, op := range map[string]string{Path: "createTasks", SweepPath: "sweepRun"} {
		operation := node(doc, doc, "paths", path, "post")
		require.Equal(t, op, node(doc, operation, "operationId"), path)
		got := map[string][]string{}
		for _, status := range keys(node(doc, operation, "responses")) {
			response := node(doc, operation, "responses", status)
			declared := node(doc, response, "headers")
			for name, value := range map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
				assert.Equal(t, "true", node(doc, declared, name, "required"), "%s %s: header %s", op, status, name)
				assert.Equal(t, []string{value}, list(node(doc, declared, name, "schema", "enum")), "%s %s: header %s", op, status, name)
			}
			if status == "200" {
				continue
			}
			schema := node(doc, response, "content", "application/json", "schema")
			got[status] = list(node(doc, schema, "properties", "errorCode", "enum"))
			// A header is required if every code of the status has it.
			for _, name := range keys(declared) {
				if name == "Cache-Control" || name == "X-Content-Type-Options" {
					continue
				}
				always := len(want[op][status]) > 0
				for _, written := range want[op][status] {
					always = always && written.Get(name) != ""
				}
				assert.Equal(t, always, node(doc, declared, name, "required") == "true", "%s %s: header %s is required iff every code has it", op, status, name)
			}
			// Each header written is declared, with its value.
			for code, written := range want[op][status] {
				for name := range written {
					i := slices.IndexFunc(keys(declared), func(d string) bool { return strings.EqualFold(d, name) })
					require.GreaterOrEqual(t, i, 0, "%s %s %s: header %s is not declared", op, status, code, name)
					assert.Equal(t, []string{written.Get(name)}, list(node(doc, declared, keys(declared)[i], "schema", "enum")),
						"%s %s %s: header %s", op, status, code, name)
				}
			}
		}
		wantCodes := map[string][]string{}
		for status, byCode := range want[op] {
			wantCodes[status] = slices.Sorted(maps.Keys(byCode))
		}
		for status := range got {
			got[status] = sorted(got[status])
		}
		assert.Equal(t, wantCodes, got, "%s: the statuses and errorCodes of the document", op)
	}
	notFound := node(doc, doc, "components", "responses", "NotFound", "content", "application/json", "schema", "properties", "errorCode", "enum")
	assert.Equal(t, []string{CodeNotFound}, list(notFound), "the router's 404, in components.responses.NotFound")
}

// definedCodes lists the names of the errorCode constants of response.go.
func definedCodes(t *testing.T) []string {
	f, err := parser.ParseFile(token.NewFileSet(), "response.go", nil, 0)
	require.NoError(t, err)
	var names []string
	for _, decl := range f.Decls {
		if gen, ok := decl.(*ast.GenDecl); ok && gen.Tok == token.CONST {
			for _, spec := range gen.Specs {
				for _, name := range spec.(*ast.ValueSpec).Names {
					if strings.HasPrefix(name.Name, "Code") {
						names = append(names, name.Name)
					}
				}
			}
		}
	}
	return names
}

// The schemas of the bodies name exactly the members the decoder reads and
// the wire types write, and refuse any other.
func TestOpenAPISchemas(t *testing.T) {
	doc := openAPIDoc(t)
	assert.Equal(t, sorted([]string{Path, SweepPath}), keys(doc["paths"]))
	for _, path := range []string{Path, SweepPath} {
		assert.Equal(t, []string{"post"}, keys(node(doc, doc, "paths", path)), path)
	}
	schemas := node(doc, doc, "components", "schemas")
	for _, tt := range []struct {
		schema   string
		names    []string
		required int
	}{
		{"CreateRequest", fieldNames, 5},
		{"Pair", pairKeys, len(pairKeys)},
		{"SweepRequest", sweepNames, 2},
	} {
		s := node(doc, schemas, tt.schema)
		assert.Equal(t, sorted(tt.names), keys(node(doc, s, "properties")), tt.schema)
		assert.Equal(t, tt.names[:tt.required], list(node(doc, s, "required")), tt.schema)
		assert.Equal(t, "false", node(doc, s, "additionalProperties"), tt.schema)
	}
	var domains []string
	for _, d := range validDomains {
		domains = append(domains, string(d))
	}
	assert.Equal(t, sorted(domains), sorted(list(node(doc, schemas, "Domain", "enum"))))
	assert.Equal(t, strconv.Itoa(taskcreate.MaxIDBytes), node(doc, schemas, "Identifier", "maxLength"))
	assert.Equal(t, strconv.Itoa(taskcreate.DefaultMaxPerimeter), node(doc, schemas, "CreateRequest", "properties", "perimeter", "maxItems"))
	assert.Equal(t, strconv.Itoa(taskcreate.MaxFieldErrors), node(doc, schemas, "ValidationFailure", "properties", "fieldErrors", "maxItems"))

	for schema, typ := range map[string]reflect.Type{
		"CreateResult":  reflect.TypeFor[ResponseData](),
		"Outcome":       reflect.TypeFor[Outcome](),
		"SweepResponse": reflect.TypeFor[SweepResponse](),
		"SweepResult":   reflect.TypeFor[SweepResponseData](),
		"FieldError":    reflect.TypeFor[FieldError](),
		"RetireRefusal": reflect.TypeFor[RetireRefusal](),
	} {
		s := node(doc, schemas, schema)
		names, required := jsonNames(typ)
		assert.Equal(t, names, keys(node(doc, s, "properties")), schema)
		assert.Equal(t, required, sorted(list(node(doc, s, "required"))), schema)
		assert.Equal(t, "false", node(doc, s, "additionalProperties"), schema)
	}
	// The success envelope of task-create is Response's success side; the
	// failure envelopes are its other side, success false.
	assert.Equal(t, []string{"data", "success"}, keys(node(doc, schemas, "CreateResponse", "properties")))
	assert.Equal(t, []string{"data", "success"}, sorted(list(node(doc, schemas, "CreateResponse", "required"))))
	assert.Equal(t, []string{"true"}, list(node(doc, schemas, "CreateResponse", "properties", "success", "enum")))
	assert.Equal(t, []string{"true"}, list(node(doc, schemas, "SweepResponse", "properties", "success", "enum")))
	envelope, _ := jsonNames(reflect.TypeFor[Response]())
	for _, schema := range keys(schemas) {
		if !strings.HasSuffix(schema, "Failure") {
			continue
		}
		s := node(doc, schemas, schema)
		assert.Subset(t, envelope, keys(node(doc, s, "properties")), schema)
		assert.NotContains(t, keys(node(doc, s, "properties")), "data", schema)
		assert.Subset(t, list(node(doc, s, "required")), []string{"success", "error", "errorCode"}, schema)
		assert.Equal(t, []string{"false"}, list(node(doc, s, "properties", "success", "enum")), schema)
		assert.Equal(t, "false", node(doc, s, "additionalProperties"), schema)
	}
}

// jsonNames lists the JSON members of a struct type, and those always written.
func jsonNames(typ reflect.Type) (names, always []string) {
	for f := range typ.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		names = append(names, name)
		if opts != "omitempty" {
			always = append(always, name)
		}
	}
	return sorted(names), sorted(always)
}

// The pattern and bounds of Identifier accept exactly the identifiers the
// service accepts, but for the bytes maxLength does not count.
func TestOpenAPIIdentifier(t *testing.T) {
	doc := openAPIDoc(t)
	id := node(doc, doc, "components", "schemas", "Identifier")
	pattern := regexp.MustCompile(regexp.MustCompile(`\\u([0-9A-F]{4})`).ReplaceAllString(node(doc, id, "pattern").(string), `\x{$1}`))
	maxLength, err := strconv.Atoi(node(doc, id, "maxLength").(string))
	require.NoError(t, err)
	accepts := func(s string) bool {
		return len(s) >= 1 && len([]rune(s)) <= maxLength && pattern.MatchString(s)
	}
	valid := func(s string) bool {
		var fe store.FieldErrors
		fe.CheckID("id", s)
		return fe.Err() == nil
	}
	samples := []string{"", " ", "  ", "a", " a ", "\ta", strings.Repeat("r", 255), strings.Repeat("r", 256), "\ufeff", "x\u3000"}
	for r := rune(0); r <= 0x3100; r++ {
		samples = append(samples, string(r), "id"+string(r), string(r)+" ")
	}
	for _, s := range samples {
		assert.Equal(t, valid(s), accepts(s), "identifier %q", s)
	}
}

// readYAML reads the document as maps, lists and strings: every scalar
// stays the text it is written as.
func readYAML(src string) (any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, errors.New("not one YAML document")
	}
	return plain(doc.Content[0]), nil
}

func plain(n *yaml.Node) any {
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = plain(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, c := range n.Content {
			l[i] = plain(c)
		}
		return l
	case yaml.AliasNode:
		return plain(n.Alias)
	default:
		return n.Value
	}
}
