package taskhttp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/actionvector/tasks/taskcreate"
)

// maxFieldErrors bounds the problems one body reports, as taskcreate bounds
// its own: a body of a million bad pairs must not become a million errors.
const maxFieldErrors = 1000

// maxKeyBytes bounds how much of an unknown field's name is echoed back.
const maxKeyBytes = 64

// DecodeRequest reads one JSON request body from r, strictly: every field is
// required (null counts as missing, 0 is a value), names match exactly, and
// unknown or duplicate fields, values of the wrong JSON type, a body that is
// not one JSON object and data after it are rejected. It reports every such
// problem it can in one *taskcreate.ValidationError, named by JSON path. The
// values themselves are checked by Service.CreateTasks, which reports its
// problems the same way.
//
// Wrap r in http.MaxBytesReader to bound what it reads; a body over the limit
// returns the *http.MaxBytesError, which WriteError answers with 413. The
// perimeter is decoded one pair at a time, never as a generic tree.
func DecodeRequest(r io.Reader) (taskcreate.Request, error) {
	req, err := decodeRequest(r)
	if err != nil {
		return taskcreate.Request{}, err
	}
	return req, nil
}

// decodeRequest is DecodeRequest returning, on error, what it decoded so far,
// so the handler can log which organization and run a bad request was for.
func decodeRequest(r io.Reader) (taskcreate.Request, error) {
	d := bodyDecoder{dec: json.NewDecoder(r)}
	d.dec.UseNumber() // minConfidence is parsed here, so out-of-range numbers are field errors
	// body fails with a *brokenBody, or errTooManyProblems once the list is full.
	err := d.body()
	var broken *brokenBody
	if errors.As(err, &broken) {
		if errors.As(broken.err, new(*http.MaxBytesError)) {
			return d.req, broken.err
		}
		d.addBroken(broken)
	}
	if len(d.problems) > 0 {
		return d.req, &taskcreate.ValidationError{Fields: d.problems}
	}
	return d.req, nil
}

// jsonPath locates a value in the body without formatting it until needed:
// a valid perimeter of 100,000 pairs should not build 100,000 strings.
type jsonPath struct {
	field string // top-level field; "" for the body itself
	index int    // index into the field's array, or -1
	key   string // key inside the array's object item, or ""
}

func at(field string) jsonPath { return jsonPath{field: field, index: -1} }

func (p jsonPath) String() string {
	s := p.field
	if p.index >= 0 {
		s += "[" + strconv.Itoa(p.index) + "]"
	}
	if p.key != "" {
		s += "." + p.key
	}
	return s
}

// brokenBody stops decoding: the body is not JSON, ends early or could not be
// read. path is where the decoder was.
type brokenBody struct {
	path jsonPath
	err  error
}

func (e *brokenBody) Error() string { return fmt.Sprintf("%v: %v", e.path, e.err) }
func (e *brokenBody) Unwrap() error { return e.err }

// errTooManyProblems stops decoding once maxFieldErrors problems are listed.
var errTooManyProblems = errors.New("taskhttp: too many problems")

// Top-level fields, as bits of a set.
const (
	fieldOrganizationID = 1 << iota
	fieldWorkflowRunID
	fieldDomains
	fieldMinConfidence
	fieldPerimeter
)

var requiredFields = []struct {
	bit  int
	name string
}{
	{fieldOrganizationID, "organizationId"},
	{fieldWorkflowRunID, "workflowRunId"},
	{fieldDomains, "domains"},
	{fieldMinConfidence, "minConfidence"},
	{fieldPerimeter, "perimeter"},
}

// bodyDecoder walks the body token by token.
type bodyDecoder struct {
	dec      *json.Decoder
	req      taskcreate.Request
	problems []taskcreate.FieldError
	item     json.RawMessage // the perimeter item being decoded, reused
}

func (d *bodyDecoder) add(p jsonPath, code, format string, args ...any) error {
	if len(d.problems) == maxFieldErrors-1 {
		d.problems = append(d.problems, taskcreate.FieldError{Code: CodeValidationError,
			Message: fmt.Sprintf("has more than %d problems; only the first are listed", maxFieldErrors-1)})
	}
	if len(d.problems) >= maxFieldErrors {
		return errTooManyProblems
	}
	d.problems = append(d.problems, taskcreate.FieldError{Field: p.String(), Code: code, Message: fmt.Sprintf(format, args...)})
	return nil
}

func (d *bodyDecoder) missing(p jsonPath) error {
	return d.add(p, CodeMissingRequiredField, "is required")
}

func (d *bodyDecoder) wrongType(p jsonPath, t json.Token, want string) error {
	if err := d.add(p, CodeValidationError, "must be %s, got %s", want, kindOf(t)); err != nil {
		return err
	}
	return d.skipRest(p, t)
}

func (d *bodyDecoder) addBroken(b *brokenBody) {
	msg := "is not valid JSON: "
	var syntax *json.SyntaxError
	switch {
	case errors.As(b.err, &syntax):
		msg += fmt.Sprintf("%v (at byte %d)", syntax, syntax.Offset)
	case errors.Is(b.err, io.EOF) || errors.Is(b.err, io.ErrUnexpectedEOF):
		msg += "unexpected end of the body"
	case errors.Is(b.err, errTooDeep):
		msg = "is " + errTooDeep.Error()
	default:
		msg = "could not be read"
	}
	// Room is kept for this last problem even when the list is full.
	d.problems = append(d.problems[:min(len(d.problems), maxFieldErrors-1)],
		taskcreate.FieldError{Field: b.path.String(), Code: CodeValidationError, Message: msg})
}

// token reads the next token; any failure breaks the body.
func (d *bodyDecoder) token(p jsonPath) (json.Token, error) {
	t, err := d.dec.Token()
	if err != nil {
		return nil, &brokenBody{path: p, err: err}
	}
	return t, nil
}

// skipRest skips what is left of a value whose first token was t.
func (d *bodyDecoder) skipRest(p jsonPath, t json.Token) error {
	if t != json.Delim('{') && t != json.Delim('[') {
		return nil
	}
	for depth := 1; depth > 0; {
		t, err := d.token(p)
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			if depth++; depth > maxNesting {
				return &brokenBody{path: p, err: errTooDeep}
			}
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

// maxNesting bounds the depth of skipped values, as encoding/json bounds the
// values it decodes: the decoder's token stack costs 8 bytes per level, so
// an unbounded "[[[[..." would cost eight times the body in memory.
const maxNesting = 10_000

var errTooDeep = fmt.Errorf("nested more than %d levels deep", maxNesting)

// body decodes the whole body into d.req.
func (d *bodyDecoder) body() error {
	root := at("")
	t, err := d.dec.Token()
	switch {
	case errors.Is(err, io.EOF):
		return d.add(root, CodeValidationError, "must be a JSON object, got an empty body")
	case err != nil:
		return &brokenBody{path: root, err: err}
	case t != json.Delim('{'):
		return d.add(root, CodeValidationError, "must be a JSON object, got %s", kindOf(t))
	}

	var seen, present int // fields found, and those of them not null
	for d.dec.More() {
		t, err := d.token(root)
		if err != nil {
			return err
		}
		key := t.(string) // the decoder only yields strings as object keys
		bit := 0
		for _, f := range requiredFields {
			if f.name == key {
				bit = f.bit
			}
		}
		if bit == 0 {
			if err := d.unknownField(key); err != nil {
				return err
			}
			continue
		}
		if seen&bit != 0 {
			if err := d.add(at(key), CodeValidationError, "appears more than once"); err != nil {
				return err
			}
			if err := d.skipValue(at(key)); err != nil {
				return err
			}
			continue
		}
		seen |= bit
		var notNull bool
		switch bit {
		case fieldOrganizationID:
			d.req.OrganizationID, notNull, err = d.stringValue(at(key))
		case fieldWorkflowRunID:
			d.req.WorkflowRunID, notNull, err = d.stringValue(at(key))
		case fieldDomains:
			notNull, err = d.domains(at(key))
		case fieldMinConfidence:
			notNull, err = d.minConfidence(at(key))
		case fieldPerimeter:
			notNull, err = d.perimeter(at(key))
		}
		if err != nil {
			return err
		}
		if notNull {
			present |= bit
		}
	}
	if _, err := d.token(root); err != nil { // the closing brace
		return err
	}

	switch _, err := d.dec.Token(); {
	case errors.Is(err, io.EOF):
	case errors.As(err, new(*http.MaxBytesError)):
		return &brokenBody{path: root, err: err}
	default:
		if err := d.add(root, CodeValidationError, "must hold one JSON object and nothing after it"); err != nil {
			return err
		}
	}

	for _, f := range requiredFields {
		if present&f.bit == 0 {
			if err := d.missing(at(f.name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// unknownField reports key, found at the top level, and skips its value.
func (d *bodyDecoder) unknownField(key string) error {
	p := at(shorten(key))
	if err := d.add(p, CodeValidationError, "is not a known field"); err != nil {
		return err
	}
	return d.skipValue(p)
}

// unknownMember reports key, found in the perimeter item at p, whose value
// is already consumed.
func (d *bodyDecoder) unknownMember(p jsonPath, key string) error {
	p.key = shorten(key)
	return d.add(p, CodeValidationError, "is not a known field")
}

// shorten bounds a name echoed back to the client.
func shorten(key string) string {
	if len(key) > maxKeyBytes {
		return strings.ToValidUTF8(key[:maxKeyBytes], "") + "..."
	}
	return key
}

func (d *bodyDecoder) skipValue(p jsonPath) error {
	t, err := d.token(p)
	if err != nil {
		return err
	}
	return d.skipRest(p, t)
}

// stringValue decodes a string at p. A null is not present.
func (d *bodyDecoder) stringValue(p jsonPath) (s string, present bool, err error) {
	t, err := d.token(p)
	if err != nil {
		return "", false, err
	}
	switch v := t.(type) {
	case string:
		return v, true, nil
	case nil:
		return "", false, nil
	}
	return "", true, d.wrongType(p, t, "a string")
}

func (d *bodyDecoder) domains(p jsonPath) (present bool, err error) {
	t, err := d.token(p)
	switch {
	case err != nil:
		return false, err
	case t == nil:
		return false, nil
	case t != json.Delim('['):
		return true, d.wrongType(p, t, "an array of strings")
	}
	d.req.Domains = []taskcreate.Domain{} // present and empty is not missing
	for i := 0; d.dec.More(); i++ {
		ip := jsonPath{field: p.field, index: i}
		t, err := d.token(ip)
		if err != nil {
			return true, err
		}
		s, ok := t.(string)
		if !ok {
			if err := d.wrongType(ip, t, "a string"); err != nil {
				return true, err
			}
			continue
		}
		d.req.Domains = append(d.req.Domains, taskcreate.Domain(s))
	}
	_, err = d.token(p) // the closing bracket
	return true, err
}

func (d *bodyDecoder) minConfidence(p jsonPath) (present bool, err error) {
	t, err := d.token(p)
	switch {
	case err != nil:
		return false, err
	case t == nil:
		return false, nil
	}
	n, ok := t.(json.Number)
	if !ok {
		return true, d.wrongType(p, t, "a number")
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return true, d.add(p, CodeValidationError, "must be a number between 0 and 1, got %.40s", n)
	}
	d.req.MinConfidence = f
	return true, nil
}

func (d *bodyDecoder) perimeter(p jsonPath) (present bool, err error) {
	t, err := d.token(p)
	switch {
	case err != nil:
		return false, err
	case t == nil:
		return false, nil
	case t != json.Delim('['):
		return true, d.wrongType(p, t, "an array of objects")
	}
	d.req.Perimeter = []taskcreate.Pair{} // present and empty is not missing
	for i := 0; d.dec.More(); i++ {
		if err := d.pair(jsonPath{field: p.field, index: i}); err != nil {
			return true, err
		}
	}
	_, err = d.token(p) // the closing bracket
	return true, err
}

// pair decodes one perimeter item at p and appends it. The item is read
// whole by the decoder, which checks its syntax, and then walked here: a
// token at a time through the decoder costs several allocations per token.
func (d *bodyDecoder) pair(p jsonPath) error {
	if err := d.dec.Decode(&d.item); err != nil {
		return &brokenBody{path: p, err: err}
	}
	if len(d.item) == 0 || d.item[0] != '{' {
		return d.add(p, CodeValidationError, "must be an object, got %s", kindOfRaw(d.item))
	}
	var pair taskcreate.Pair
	var seenVariant, seenShop, hasVariant, hasShop bool
	err := forEachMember(d.item, func(rawKey, value []byte) error {
		key := memberName(rawKey)
		kp := jsonPath{field: p.field, index: p.index, key: key}
		var dup bool
		switch key {
		case "variantId":
			dup, seenVariant = seenVariant, true
			if !dup {
				pair.VariantID, hasVariant = d.rawString(kp, value)
			}
		case "shopId":
			dup, seenShop = seenShop, true
			if !dup {
				pair.ShopID, hasShop = d.rawString(kp, value)
			}
		default:
			return d.unknownMember(p, key)
		}
		if dup {
			return d.add(kp, CodeValidationError, "appears more than once")
		}
		return nil
	})
	if errors.Is(err, errNotAnObject) {
		return &brokenBody{path: p, err: err}
	}
	if err != nil {
		return err
	}
	if !hasVariant {
		if err := d.missing(jsonPath{field: p.field, index: p.index, key: "variantId"}); err != nil {
			return err
		}
	}
	if !hasShop {
		if err := d.missing(jsonPath{field: p.field, index: p.index, key: "shopId"}); err != nil {
			return err
		}
	}
	d.req.Perimeter = append(d.req.Perimeter, pair)
	return nil
}

// rawString decodes the string value at p. A null is not present; any other
// type is reported. The problem list filling up is noticed at the next add.
func (d *bodyDecoder) rawString(p jsonPath, value []byte) (s string, present bool) {
	switch {
	case len(value) >= 2 && value[0] == '"':
		return unquote(value), true
	case string(value) == "null":
		return "", false
	}
	_ = d.add(p, CodeValidationError, "must be a string, got %s", kindOfRaw(value))
	return "", true
}

// forEachMember calls fn with the raw key and raw value of each member of
// obj, a JSON object whose syntax is already checked. It fails only if obj
// is not one, which the decoder rules out.
func forEachMember(obj []byte, fn func(key, value []byte) error) error {
	i := skipSpace(obj, 1)
	for i < len(obj) && obj[i] != '}' {
		keyEnd := valueEnd(obj, i)
		colon := skipSpace(obj, keyEnd)
		valueStart := skipSpace(obj, colon+1)
		if obj[i] != '"' || colon >= len(obj) || obj[colon] != ':' || valueStart >= len(obj) {
			return errNotAnObject
		}
		end := valueEnd(obj, valueStart)
		if end <= valueStart {
			return errNotAnObject
		}
		if err := fn(obj[i:keyEnd], obj[valueStart:end]); err != nil {
			return err
		}
		i = skipSpace(obj, end)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
	}
	return nil
}

var errNotAnObject = errors.New("not a JSON object")

// valueEnd returns the index just past the JSON value starting at b[i],
// whose syntax is already checked.
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		for depth := 0; i < len(b); {
			switch b[i] {
			case '"':
				i = stringEnd(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(b) && !strings.ContainsRune(",}] \t\r\n", rune(b[i])) {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string starting at b[i].
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// memberName decodes the raw key of a perimeter item, without allocating
// for the two names a valid item uses.
func memberName(raw []byte) string {
	switch string(raw) {
	case `"variantId"`:
		return "variantId"
	case `"shopId"`:
		return "shopId"
	}
	return unquote(raw)
}

// unquote decodes a JSON string whose syntax is already checked, exactly as
// encoding/json does (invalid UTF-8 becomes U+FFFD).
func unquote(raw []byte) string {
	if len(raw) < 2 {
		return ""
	}
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c == '\\' || c >= utf8.RuneSelf {
			var s string
			_ = json.Unmarshal(raw, &s) // cannot fail on a checked string
			return s
		}
	}
	return string(inner)
}

// kindOfRaw names the JSON type of a raw value.
func kindOfRaw(value []byte) string {
	if len(value) == 0 {
		return "nothing"
	}
	switch value[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// kindOf names the JSON type of a value from its first token.
func kindOf(t json.Token) string {
	switch t.(type) {
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	switch t {
	case json.Delim('{'):
		return "an object"
	case json.Delim('['):
		return "an array"
	}
	return fmt.Sprintf("%v", t)
}
