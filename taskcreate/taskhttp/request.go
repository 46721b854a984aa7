package taskhttp

import (
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/actionvector/tasks/taskcreate"
)

// DecodeRequest reads one JSON request body from r, strictly: every field is
// required (null is missing, 0 is a value) but the optional dryRun,
// returnOutcomes, retireStale, maxRetireFraction (a number) and snapshotDate
// (a calendar date, "2026-11-27"), names match exactly, and unknown
// or repeated fields, wrong JSON types, strings that are not valid UTF-8 (raw,
// or a \u escape of a lone surrogate), a body that is not one JSON object and
// data after it are all listed in one *taskcreate.ValidationError by JSON
// path; Service.CreateTasks checks the values. The perimeter is read a pair at
// a time. Wrap r in http.MaxBytesReader: a body over the limit returns its
// *http.MaxBytesError (413 in WriteError). A read that times out, as under
// http.Server's ReadTimeout, returns ErrRequestTimeout (408) wrapping it.
//
// DecodeRequest reads a body of any size to its end, leaving its size to
// CreateTasks; DecodeRequestWithLimits refuses an oversized one as soon as
// it has read enough to know.
func DecodeRequest(r io.Reader) (taskcreate.Request, error) {
	req, err := decodeRequest(r, nil)
	if err != nil {
		return taskcreate.Request{}, err
	}
	return req, nil
}

// DecodeRequestWithLimits is DecodeRequest refusing, while it reads, a
// request over limits (pass Service.Limits()): a perimeter of more than
// MaxPerimeter pairs, or a request that asks for returnOutcomes and has more
// than MaxOutcomes candidates, is refused with the error CreateTasks would
// return, at the pair that crosses the bound, without reading the rest of
// the body (net/http closes the connection on it). The counts in the
// error's message are those read so far. How early depends on the order of
// the fields: returnOutcomes and domains before the perimeter give the
// earliest refusal (RequestBody sends them so); a bound crossed by what is
// not yet known is left to CreateTasks, as with DecodeRequest. The problems
// listed before the refusal stay listed with it.
func DecodeRequestWithLimits(r io.Reader, limits taskcreate.Limits) (taskcreate.Request, error) {
	req, err := decodeRequest(r, &limits)
	if err != nil {
		return taskcreate.Request{}, err
	}
	return req, nil
}

// decodeRequest is DecodeRequestWithLimits returning, on error, what it
// decoded so far, so the handler can log which organization and run a bad
// request was for. Without limits, it refuses nothing for its size.
func decodeRequest(r io.Reader, limits *taskcreate.Limits) (taskcreate.Request, error) {
	d := newBodyDecoder(r)
	if limits != nil {
		d.guard = &sizeGuard{limits: *limits}
	}
	d.body(fieldNames, 5, d.field)
	return d.req, d.err()
}

// The members of the body, in the order missing ones are listed, and of a perimeter item.
var (
	fieldNames = []string{"organizationId", "workflowRunId", "domains", "minConfidence", "perimeter", // required
		"dryRun", "returnOutcomes", "retireStale", "maxRetireFraction", "snapshotDate"}
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
		d.sawDomains()
	case "minConfidence":
		present = d.minConfidence(p)
	case "dryRun":
		d.req.DryRun, present = d.boolValue(p)
	case "returnOutcomes":
		d.req.ReturnOutcomes, present = d.boolValue(p)
		d.sawReturnOutcomes()
	case "retireStale":
		d.req.RetireStale, present = d.boolValue(p)
	case "maxRetireFraction":
		var f float64
		if f, present = d.number(p, "between 0 and 1"); present {
			d.req.MaxRetireFraction = &f
		}
	case "snapshotDate":
		var s string
		problems := len(d.problems)
		if s, present = d.stringValue(p, true); present && len(d.problems) == problems { // else not a string
			date, err := time.Parse(time.DateOnly, s)
			if err != nil || date.Format(time.DateOnly) != s {
				d.add(p, CodeValidationError, "must be a calendar date, YYYY-MM-DD, got %q", truncate(s))
			}
			d.req.SnapshotDate = date
		}
	case "perimeter":
		d.req.Perimeter = []taskcreate.Pair{}
		present = d.array(p, "an array of objects", d.pair)
	}
	return present
}

func (d *bodyDecoder) minConfidence(p jsonPath) (present bool) {
	d.req.MinConfidence, present = d.number(p, "between 0 and 1")
	return present
}

// number decodes the number at p; null is absent. A value that is no
// number, or one out of float64's range, is a problem at p; what range
// says is for the message, the service checks it.
func (d *bodyDecoder) number(p jsonPath, valid string) (f float64, present bool) {
	if !d.decode(p, &d.raw) || d.raw[0] == 'n' {
		return 0, false
	}
	if kind := kindOf(d.raw[0]); kind != "a number" {
		d.add(p, CodeValidationError, "must be a number, got %s", kind)
	} else if v, err := strconv.ParseFloat(string(d.raw), 64); err != nil {
		d.add(p, CodeValidationError, "must be a number %s, got %.40s", valid, d.raw)
	} else {
		f = v
	}
	return f, true
}

// pair decodes the perimeter item at p and appends it.
func (d *bodyDecoder) pair(p jsonPath) {
	if t := d.token(p); t != json.Delim('{') {
		d.wrongType(p, "an object", t)
		d.sawPair(p.index, nil)
		return
	}
	var pair taskcreate.Pair
	values := [...]*string{&pair.VariantID, &pair.ShopID} // in pairKeys' order
	d.object(p, pairKeys, len(pairKeys), func(i int, at jsonPath) (present bool) {
		*values[i], present = d.stringValue(at, true)
		return present
	})
	d.req.Perimeter = append(d.req.Perimeter, pair)
	d.sawPair(p.index, &pair)
}
