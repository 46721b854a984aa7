package taskhttp

import (
	"errors"
	"math/bits"
	"slices"

	"github.com/actionvector/tasks/taskcreate"
)

// errRefused stops decoding a request over the service's Limits.
var errRefused = errors.New("taskhttp: request over the service's limits")

// validDomains are the domains a request may name, a bit each.
var validDomains = []taskcreate.Domain{taskcreate.Markdown, taskcreate.Rebalance, taskcreate.Restock}

// sizeGuard follows, as the body is read, what Limits bounds: the pairs of
// the perimeter, and its candidates once returnOutcomes is known true.
// Candidates are unique pairs times unique domains, so a perimeter that
// repeats a pair is counted once.
type sizeGuard struct {
	limits   taskcreate.Limits
	domains  int                          // unique valid domains once read; 0 before, counted as 1
	outcomes bool                         // returnOutcomes:true came before the perimeter
	unique   map[taskcreate.Pair]struct{} // the perimeter's pairs while outcomes; at most MaxOutcomes+1
}

// refuse stops decoding with err, a *taskcreate.ValidationError from
// Limits, unless decoding already stopped.
func (d *bodyDecoder) refuse(err error) {
	var invalid *taskcreate.ValidationError
	if d.stop == nil && errors.As(err, &invalid) {
		d.stop, d.refusal = errRefused, invalid.Fields
	}
}

// sawPair counts the perimeter's item at index, pair if it is an object.
func (d *bodyDecoder) sawPair(index int, pair *taskcreate.Pair) {
	g := d.guard
	if g == nil {
		return
	}
	// The perimeter bound counts items, duplicates included, as CreateTasks does.
	if err := g.limits.PerimeterError(index + 1); err != nil {
		d.refuse(err)
		return
	}
	if g.outcomes && pair != nil {
		g.unique[*pair] = struct{}{}
		d.checkOutcomes()
	}
}

func (d *bodyDecoder) checkOutcomes() {
	d.refuse(d.guard.limits.OutcomesError(len(d.guard.unique), max(d.guard.domains, 1)))
}

// sawDomains counts the unique valid domains just read: invalid ones are
// refused by CreateTasks, and make no candidates.
func (d *bodyDecoder) sawDomains() {
	g := d.guard
	if g == nil {
		return
	}
	var seen uint
	for _, dom := range d.req.Domains {
		if i := slices.Index(validDomains, dom); i >= 0 {
			seen |= 1 << i
		}
	}
	g.domains = bits.OnesCount(seen)
	if g.outcomes {
		d.checkOutcomes()
	}
}

// sawReturnOutcomes starts counting candidates if returnOutcomes is true
// and the perimeter is still to come. Once it is read, little of the body
// is left: CreateTasks counts its candidates. A bound that no perimeter
// within MaxPerimeter can cross needs no count either.
func (d *bodyDecoder) sawReturnOutcomes() {
	g := d.guard
	if g == nil || !d.req.ReturnOutcomes || d.req.Perimeter != nil || g.limits.MaxOutcomes/len(validDomains) >= g.limits.MaxPerimeter {
		return
	}
	g.outcomes = true
	g.unique = make(map[taskcreate.Pair]struct{})
}
