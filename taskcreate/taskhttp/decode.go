package taskhttp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/actionvector/tasks/taskcreate"
)

// maxKeyBytes bounds how much of an unknown field's name is echoed back.
const maxKeyBytes = 64

func newBodyDecoder(r io.Reader) *bodyDecoder {
	d := &bodyDecoder{dec: json.NewDecoder(r)}
	d.dec.UseNumber() // so that 1e400 where an object belongs is a wrong type, not an overflow
	return d
}

// err is what decoding the body came to: nil, a *taskcreate.ValidationError
// listing its problems, or the error of a reader that failed.
func (d *bodyDecoder) err() error {
	var syntax *json.SyntaxError
	var netErr net.Error
	switch msg := "could not be read"; {
	case d.stop == nil || d.stop == errTooManyProblems:
	case errors.As(d.stop, new(*http.MaxBytesError)), errors.Is(d.stop, ErrTooManyRequests):
		return d.stop
	case d.stop == errRefused: // after the problems found before it, as the end of a broken body is
		d.problems = append(d.problems[:min(len(d.problems), taskcreate.MaxFieldErrors-len(d.refusal))], d.refusal...)
		return &taskcreate.ValidationError{Fields: d.problems}
	case errors.Is(d.stop, os.ErrDeadlineExceeded) || errors.As(d.stop, &netErr) && netErr.Timeout(): // a stalled body
		return fmt.Errorf("%w: %w", ErrRequestTimeout, d.stop)
	default:
		if errors.As(d.stop, &syntax) {
			msg = fmt.Sprintf("is not valid JSON: %v (at byte %d)", syntax, syntax.Offset)
		} else if errors.Is(d.stop, io.EOF) || errors.Is(d.stop, io.ErrUnexpectedEOF) {
			msg = "is not valid JSON: unexpected end of the body"
		}
		// Listed even when the list is full; inside a perimeter item, on the item.
		d.stopAt.key = ""
		d.problems = append(d.problems[:min(len(d.problems), taskcreate.MaxFieldErrors-1)],
			taskcreate.FieldError{Field: d.stopAt.String(), Code: CodeValidationError, Message: msg})
	}
	if len(d.problems) > 0 {
		return &taskcreate.ValidationError{Fields: d.problems}
	}
	return nil
}

// jsonPath locates a value, formatted only for a problem: most pairs have none.
type jsonPath struct {
	field string // top-level field; "" for the body itself
	index int    // index into the field's array, or -1
	key   string // key inside the array's object item, or ""
}

// member is the path of key in the object at p.
func (p jsonPath) member(key string) jsonPath {
	if p.field == "" {
		return jsonPath{field: key, index: -1}
	}
	p.key = key
	return p
}

func (p jsonPath) String() string {
	if p.index >= 0 {
		p.field += "[" + strconv.Itoa(p.index) + "]"
	}
	if p.key != "" {
		p.field += "." + p.key
	}
	return p.field
}

// errTooManyProblems stops decoding once the list of problems is full.
var errTooManyProblems = errors.New("taskhttp: too many problems")

// bodyDecoder walks the body: Token for objects, arrays and keys, Decode for
// other values, whose syntax and depth json.Decoder's own scanner checks.
type bodyDecoder struct {
	dec      *json.Decoder
	req      taskcreate.Request
	problems []taskcreate.FieldError
	raw      json.RawMessage         // the last value decoded, reused
	stop     error                   // once set, nothing is read or listed: errTooManyProblems, errRefused, or why the body broke
	stopAt   jsonPath                // where the body broke
	guard    *sizeGuard              // nil: nothing is refused for its size
	refusal  []taskcreate.FieldError // the errRefused error's fields
}

// add lists a problem; past taskcreate.MaxFieldErrors, as taskcreate does, the last one says the list is cut.
func (d *bodyDecoder) add(p jsonPath, code, format string, args ...any) {
	switch {
	case d.stop != nil:
	case len(d.problems) == taskcreate.MaxFieldErrors:
		d.problems[len(d.problems)-1] = taskcreate.FieldError{Code: CodeValidationError,
			Message: fmt.Sprintf("more than %d problems; only the first are listed", taskcreate.MaxFieldErrors-1)}
		d.stop = errTooManyProblems
	default:
		d.problems = append(d.problems, taskcreate.FieldError{Field: p.String(), Code: code, Message: fmt.Sprintf(format, args...)})
	}
}

func (d *bodyDecoder) more() bool { return d.stop == nil && d.dec.More() }

// token reads the next token at p; nil once stopped, which keeps stopAt.
func (d *bodyDecoder) token(p jsonPath) (t json.Token) {
	if d.stop == nil {
		t, d.stop = d.dec.Token()
		d.stopAt = p
	}
	return t
}

// decode reads the next value at p whole into v and reports whether it could.
func (d *bodyDecoder) decode(p jsonPath, v any) bool {
	if d.stop == nil {
		d.stop, d.stopAt = d.dec.Decode(v), p
	}
	return d.stop == nil
}

// discard takes a value the decoder has checked, without copying it.
type discard struct{}

func (*discard) UnmarshalJSON([]byte) error { return nil }

// wrongType lists the value at p, whose first token is t, as not want and
// skips it: one level by tokens, then whole values, whose depth Decode bounds.
func (d *bodyDecoder) wrongType(p jsonPath, want string, t json.Token) {
	text, _ := json.Marshal(t) // a scalar's text starts as the body's did
	if delim, ok := t.(json.Delim); ok {
		text = []byte{byte(delim)}
	}
	d.add(p, CodeValidationError, "must be %s, got %s", want, kindOf(text[0]))
	if t == json.Delim('{') || t == json.Delim('[') {
		for d.more() {
			if t == json.Delim('{') {
				d.token(p) // the key
			}
			d.decode(p, &discard{})
		}
		d.token(p) // the closing delimiter
	}
}

// object reads the members of the object at p, whose '{' is read: each of names
// by value, which reports it present (not null); others, and absent ones of the
// first required names, are listed.
func (d *bodyDecoder) object(p jsonPath, names []string, required int, value func(i int, at jsonPath) (present bool)) {
	var seen, present uint64 // bit i for names[i]
	for d.more() {
		key, _ := d.token(p).(string) // the decoder yields only strings as keys
		switch i := slices.Index(names, key); {
		case i < 0 || seen&(1<<i) != 0:
			msg := "appears more than once"
			if i < 0 {
				msg = "is not a known field"
				if len(key) > maxKeyBytes { // the name is echoed back
					key = strings.ToValidUTF8(key[:maxKeyBytes], "") + "..."
				}
			}
			d.add(p.member(key), CodeValidationError, "%s", msg)
			d.decode(p.member(key), &discard{})
		default:
			seen |= 1 << i
			if value(i, p.member(key)) {
				present |= 1 << i
			}
		}
	}
	d.token(p) // the closing brace
	for i, name := range names[:required] {
		if present&(1<<i) == 0 {
			d.add(p.member(name), CodeMissingRequiredField, "is required")
		}
	}
}

// array reads the array at p, each element by elem; present: not null; others are listed.
func (d *bodyDecoder) array(p jsonPath, want string, elem func(at jsonPath)) (present bool) {
	switch t := d.token(p); {
	case t == nil: // null, or stopped
		return false
	case t != json.Delim('['):
		d.wrongType(p, want, t)
		return true
	}
	for i := 0; d.more(); i++ {
		elem(jsonPath{field: p.field, index: i})
	}
	d.token(p) // the closing bracket
	return true
}

// body decodes the whole body, one object whose members are names, the first
// required of them required, each decoded by field.
func (d *bodyDecoder) body(names []string, required int, field func(i int, at jsonPath) (present bool)) {
	root := jsonPath{index: -1}
	switch t := d.token(root); {
	case errors.Is(d.stop, io.EOF): // only spaces, or nothing
		d.stop = nil
		d.add(root, CodeValidationError, "must be a JSON object, got an empty body")
		return
	case t != json.Delim('{'):
		d.wrongType(root, "a JSON object", t)
		return
	}
	d.object(root, names, required, field)
	if d.stop == nil {
		switch _, err := d.dec.Token(); {
		case errors.Is(err, io.EOF):
		case err == nil || errors.As(err, new(*json.SyntaxError)) || errors.Is(err, io.ErrUnexpectedEOF):
			d.add(root, CodeValidationError, "must hold one JSON object and nothing after it")
		default: // the reader failed
			d.stop, d.stopAt = err, root
		}
	}
}

// stringValue reads a string at p, listing other types and invalid UTF-8.
func (d *bodyDecoder) stringValue(p jsonPath, nullable bool) (s string, present bool) {
	if !d.decode(p, &d.raw) {
		return "", false
	}
	switch kind := kindOf(d.raw[0]); {
	case kind == "null" && nullable:
		return "", false
	case kind != "a string":
		d.add(p, CodeValidationError, "must be a string, got %s", kind)
		return "", true
	}
	s, valid := unquote(d.raw)
	if !valid {
		d.add(p, CodeValidationError, "must be valid UTF-8")
	}
	return s, true
}

// boolValue reads an optional boolean at p: null is absent, false.
func (d *bodyDecoder) boolValue(p jsonPath) (v, present bool) {
	if !d.decode(p, &d.raw) || d.raw[0] == 'n' {
		return false, false
	}
	if kind := kindOf(d.raw[0]); kind != "a boolean" {
		d.add(p, CodeValidationError, "must be a boolean, got %s", kind)
	}
	return d.raw[0] == 't', true
}

// unquote decodes raw, a checked JSON string, and reports whether it is valid UTF-8
// with no lone surrogate escape: encoding/json makes both U+FFFD, so ids would collide.
func unquote(raw []byte) (string, bool) {
	inner := raw[1 : len(raw)-1]
	if !slices.ContainsFunc(inner, func(c byte) bool { return c == '\\' || c >= utf8.RuneSelf }) {
		return string(inner), true
	}
	var s string
	_ = json.Unmarshal(raw, &s) // cannot fail on a checked string
	return s, utf8.Valid(inner) && !hasLoneSurrogate(inner)
}

// hasLoneSurrogate reports whether a checked JSON string's inside escapes half a surrogate pair alone.
func hasLoneSurrogate(s []byte) bool {
	high := false // the last character was an escaped high surrogate
	for i := 0; i < len(s); i++ {
		r := rune(-1) // stays so but for a \u escape
		if s[i] == '\\' {
			if i++; s[i] == 'u' {
				n, _ := strconv.ParseUint(string(s[i+1:i+5]), 16, 32)
				r, i = rune(n), i+4
			}
		}
		if low := r >= 0xdc00 && r < 0xe000; low != high {
			return true
		}
		high = r >= 0xd800 && r < 0xdc00
	}
	return high
}

// kindOf names the JSON type of a value from its first byte.
func kindOf(first byte) string {
	kinds := [...]string{"a number", "a string", "an object", "an array", "a boolean", "a boolean", "null"}
	return kinds[strings.IndexByte(`"{[tfn`, first)+1]
}
