package taskcreate

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/actionvector/tasks/store"
)

// checkRequest validates req against the rules of the package documentation.
func checkRequest(req *Request, maxPerimeter int) error {
	var fe store.FieldErrors
	fe.CheckID("organizationId", req.OrganizationID)
	fe.CheckID("workflowRunId", req.WorkflowRunID)

	switch {
	case req.Domains == nil:
		fe.Add("domains", CodeMissingRequiredField, "is required")
	case len(req.Domains) == 0:
		fe.Add("domains", CodeValidationError, "must contain at least one domain")
	}
	for i, d := range req.Domains {
		if !d.Valid() {
			fe.CheckDomain(fmt.Sprintf("domains[%d]", i), d)
		}
	}

	switch c := req.MinConfidence; {
	case math.IsNaN(c) || math.IsInf(c, 0):
		fe.Add("minConfidence", CodeValidationError, "must be a finite number")
	case c < 0 || c > 1:
		fe.Add("minConfidence", CodeValidationError, "must be between 0 and 1, got %v", c)
	}

	if f := req.MaxRetireFraction; f != nil && !(*f >= 0 && *f <= 1) { // NaN too
		fe.Add("maxRetireFraction", CodeValidationError, "must be between 0 and 1, got %v", *f)
	}
	if d := req.SnapshotDate; !d.IsZero() {
		switch _, offset := d.Zone(); {
		case offset != 0 || !d.Equal(store.DateOf(d)):
			fe.Add("snapshotDate", CodeValidationError, "must be a calendar date, midnight UTC, got %s", d.Format(time.RFC3339Nano))
		case d.Year() < 1 || d.Year() > 9999:
			fe.Add("snapshotDate", CodeValidationError, "year must be between 1 and 9999")
		}
	}

	if len(req.Perimeter) > maxPerimeter {
		// Checking every pair of an oversized perimeter is wasted work.
		p := perimeterTooLarge(maxPerimeter, len(req.Perimeter))
		fe.Add(p.Field, p.Code, "%s", p.Message)
	} else {
		for i, p := range req.Perimeter {
			fe.CheckIDAt("perimeter", i, "variantId", p.VariantID)
			fe.CheckIDAt("perimeter", i, "shopId", p.ShopID)
			if fe.Full() {
				break
			}
		}
	}
	return fe.Err()
}

// Limits are the bounds a Service sets on the size of a request, for a
// decoder that refuses an oversized one while reading it, as taskhttp's.
type Limits struct {
	MaxPerimeter int // pairs, before duplicates are collapsed (WithMaxPerimeter)
	MaxOutcomes  int // candidates of a request that asks for ReturnOutcomes (WithMaxOutcomes)
}

// PerimeterError is CreateTasks' error for a perimeter of pairs pairs,
// duplicates included, or nil if it is not too large.
func (l Limits) PerimeterError(pairs int) error {
	if pairs <= l.MaxPerimeter {
		return nil
	}
	return &ValidationError{Fields: []FieldError{perimeterTooLarge(l.MaxPerimeter, pairs)}}
}

// OutcomesError is CreateTasks' error for a ReturnOutcomes request of so
// many unique pairs and domains, or nil if the list is not too long.
func (l Limits) OutcomesError(uniquePairs, uniqueDomains int) error {
	if uniquePairs*uniqueDomains <= l.MaxOutcomes {
		return nil
	}
	return &ValidationError{Fields: []FieldError{{Field: "returnOutcomes", Code: CodeValidationError,
		Message: fmt.Sprintf("lists at most %d candidates, and this request has %d (%d pairs x %d domains)",
			l.MaxOutcomes, uniquePairs*uniqueDomains, uniquePairs, uniqueDomains)}}}
}

func perimeterTooLarge(max, pairs int) FieldError {
	return FieldError{Field: "perimeter", Code: CodeValidationError, Message: fmt.Sprintf("must have at most %d pairs, got %d", max, pairs)}
}

// checkSweep validates a SweepRequest: both ids follow the identifier rule.
func checkSweep(req SweepRequest) error {
	var fe store.FieldErrors
	fe.CheckID("organizationId", req.OrganizationID)
	fe.CheckID("workflowRunId", req.WorkflowRunID)
	return fe.Err()
}

// normalizeDomains returns the unique domains of ds in ascending order.
func normalizeDomains(ds []Domain) []Domain {
	out := slices.Clone(ds)
	slices.Sort(out)
	return slices.Compact(out)
}

// normalizePairs returns the unique pairs of ps in key order.
func normalizePairs(ps []Pair) []Pair {
	out := slices.Clone(ps)
	slices.SortFunc(out, store.ComparePairs)
	return slices.Compact(out)
}
