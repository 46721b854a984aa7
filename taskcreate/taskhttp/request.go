package taskhttp

import (
	"encoding/json"
	"io"
	"strconv"

	"github.com/actionvector/tasks/taskcreate"
)

// DecodeRequest reads one JSON request body from r, strictly: every field is
// required (null is missing, 0 is a value) but the optional booleans dryRun,
// returnOutcomes and retireStale, names match exactly, and unknown
// or repeated fields, wrong JSON types, strings that are not valid UTF-8 (raw,
// or a \u escape of a lone surrogate), a body that is not one JSON object and
// data after it are all listed in one *taskcreate.ValidationError by JSON
// path; Service.CreateTasks checks the values. The perimeter is read a pair at
// a time. Wrap r in http.MaxBytesReader: a body over the limit returns its
// *http.MaxBytesError (413 in WriteError). A read that times out, as under
// http.Server's ReadTimeout, returns ErrRequestTimeout (408) wrapping it.
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
	d := newBodyDecoder(r)
	d.body(fieldNames, 5, d.field)
	return d.req, d.err()
}

// The members of the body, in the order missing ones are listed, and of a perimeter item.
var (
	fieldNames = []string{"organizationId", "workflowRunId", "domains", "minConfidence", "perimeter", // required
		"dryRun", "returnOutcomes", "retireStale"}
	pairKeys = []string{"variantId", "shopId"}
)

// field decodes the value of the top-level field at p.
func (d *bodyDecoder) field(_ int, p jsonPath) (present bool) {
	switch p.field {
	case "organizationId":
		d.req.OrganizationID, present = d.stringValue(p, true)
	case "workflowRunId":
		d.req.WorkflowRunID, present = d.stringValue(p, true)
	case "domains":
		d.req.Domains = []taskcreate.Domain{} // present and empty is not missing
		present = d.array(p, "an array of strings", func(p jsonPath) {
			s, _ := d.stringValue(p, false)
			d.req.Domains = append(d.req.Domains, taskcreate.Domain(s))
		})
	case "minConfidence":
		present = d.minConfidence(p)
	case "dryRun":
		d.req.DryRun, present = d.boolValue(p)
	case "returnOutcomes":
		d.req.ReturnOutcomes, present = d.boolValue(p)
	case "retireStale":
		d.req.RetireStale, present = d.boolValue(p)
	case "perimeter":
		d.req.Perimeter = []taskcreate.Pair{}
		present = d.array(p, "an array of objects", d.pair)
	}
	return present
}

func (d *bodyDecoder) minConfidence(p jsonPath) (present bool) {
	if !d.decode(p, &d.raw) || d.raw[0] == 'n' {
		return false
	}
	if kind := kindOf(d.raw[0]); kind != "a number" {
		d.add(p, CodeValidationError, "must be a number, got %s", kind)
	} else if f, err := strconv.ParseFloat(string(d.raw), 64); err != nil {
		d.add(p, CodeValidationError, "must be a number between 0 and 1, got %.40s", d.raw)
	} else {
		d.req.MinConfidence = f
	}
	return true
}

// pair decodes the perimeter item at p and appends it.
func (d *bodyDecoder) pair(p jsonPath) {
	if t := d.token(p); t != json.Delim('{') {
		d.wrongType(p, "an object", t)
		return
	}
	var pair taskcreate.Pair
	values := [...]*string{&pair.VariantID, &pair.ShopID} // in pairKeys' order
	d.object(p, pairKeys, len(pairKeys), func(i int, at jsonPath) (present bool) {
		*values[i], present = d.stringValue(at, true)
		return present
	})
	d.req.Perimeter = append(d.req.Perimeter, pair)
}
