// Package benchfixture generates the deterministic data set the adapters'
// benchmarks and the bench program run on, and that an adapter of your own
// can be measured on too: the action vectors of one organization over a
// universe of variants x shops, in all three domains at two snapshot dates,
// and a perimeter of distinct pairs drawn from that universe.
// RunCreateAndUpdate runs the two benchmarks every adapter reports.
//
// The latest snapshot is shaped like a production day: most positions have
// a row per domain (the others are unmatched), about 45% of rows have a
// confidence below DefaultMinConfidence, about 5% have a NULL confidence,
// about 5% recommend nothing, and every row carries a JSON "why" of about
// 300 bytes. Every value is a function of the seed and the position alone,
// so Rows and Expected agree without holding the rows in memory.
package benchfixture

import (
	"encoding/json"
	"fmt"
	"iter"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

// DefaultMinConfidence is the MinConfidence of the requests Request builds.
const DefaultMinConfidence = 0.6

// Organization is the tenant every row and request belongs to, unless
// Config.Organization says otherwise.
const Organization = "550e8400-e29b-41d4-a716-446655440001"

// The shape of the latest snapshot, as probabilities per (position, domain).
const (
	present    = 0.90 // a row exists; otherwise the candidate is unmatched
	nullConf   = 0.05 // the row's confidence is NULL (never suppressed)
	lowConf    = 0.45 // the row's confidence is below DefaultMinConfidence
	noOp       = 0.05 // the row recommends nothing (quantity 0 or NULL, no discount)
	extraShare = 0.20 // positions of the universe outside the perimeter, as a share of it
)

// Config sizes a fixture.
type Config struct {
	Pairs        int    // distinct pairs of the perimeter
	Shops        int    // shops of the universe; 0 means 50
	Seed         uint64 // same seed, same fixture
	Organization string // the tenant; "" means Organization
}

// Fixture is a universe of positions, the rows of each, and a perimeter.
type Fixture struct {
	Latest, Older time.Time // the two snapshot dates

	org       string
	seed      uint64
	shops     int
	variants  int
	perimeter []int32 // positions of the perimeter, in request order
	shopIDs   []string
}

// New returns the fixture of cfg. It panics if cfg.Pairs is negative.
func New(cfg Config) *Fixture {
	if cfg.Pairs < 0 {
		panic(fmt.Sprintf("fixture: %d pairs", cfg.Pairs))
	}
	shops := cfg.Shops
	if shops <= 0 {
		shops = 50
	}
	universe := max(cfg.Pairs+int(float64(cfg.Pairs)*extraShare), 1)
	variants := (universe + shops - 1) / shops
	org := cfg.Organization
	if org == "" {
		org = Organization
	}
	f := &Fixture{
		org:      org,
		Latest:   time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC),
		Older:    time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC),
		seed:     cfg.Seed,
		shops:    shops,
		variants: variants,
	}
	// A random permutation of the universe, truncated: distinct pairs in
	// an order no store can rely on.
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15))
	perm := make([]int32, variants*shops)
	for i := range perm {
		perm[i] = int32(i)
	}
	rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	f.perimeter = perm[:cfg.Pairs:cfg.Pairs]
	f.shopIDs = make([]string, shops)
	for s := range shops {
		f.shopIDs[s] = f.id(1, s)
	}
	return f
}

// Pairs returns the number of pairs of the perimeter.
func (f *Fixture) Pairs() int { return len(f.perimeter) }

// Positions returns the number of positions (variant, shop) of the universe.
func (f *Fixture) Positions() int { return f.variants * f.shops }

// Request returns a request of run over the first pairs pairs of the
// perimeter (all of them if pairs is out of range), in all three domains,
// at DefaultMinConfidence.
func (f *Fixture) Request(run string, pairs int) taskcreate.Request {
	if pairs < 0 || pairs > len(f.perimeter) {
		pairs = len(f.perimeter)
	}
	perimeter := make([]taskcreate.Pair, pairs)
	for i, pos := range f.perimeter[:pairs] {
		perimeter[i] = f.pair(int(pos))
	}
	return taskcreate.Request{
		OrganizationID: f.org,
		WorkflowRunID:  run,
		Domains:        []taskcreate.Domain{taskcreate.Restock, taskcreate.Rebalance, taskcreate.Markdown},
		MinConfidence:  DefaultMinConfidence,
		Perimeter:      perimeter,
	}
}

// Expected returns what CreateTasks reports for Request(run, pairs) on a
// store that holds Rows and no task: every eligible candidate is created.
func (f *Fixture) Expected(pairs int) store.Outcome {
	if pairs < 0 || pairs > len(f.perimeter) {
		pairs = len(f.perimeter)
	}
	var out store.Outcome
	var p position
	for _, pos := range f.perimeter[:pairs] {
		p.reset(f.seed, int(pos))
		for _, d := range taskcreate.Domains() {
			switch p.latest(d).outcome {
			case unmatched:
				out.Unmatched++
			case suppressed:
				out.Suppressed++
			case skipped:
				out.Skipped++
			default:
				out.Created++
			}
		}
	}
	return out
}

// Rows yields every action vector of the universe, position by position,
// in slices of at most chunk rows. A slice is valid until the next one is
// requested: hand it to PutActionVectors and drop it.
func (f *Fixture) Rows(chunk int) iter.Seq[[]taskcreate.ActionVector] {
	chunk = max(chunk, 1)
	return func(yield func([]taskcreate.ActionVector) bool) {
		buf := make([]taskcreate.ActionVector, 0, chunk)
		var p position
		for pos := range f.Positions() {
			p.reset(f.seed, pos)
			pair := f.pair(pos)
			for _, d := range taskcreate.Domains() {
				for _, r := range [2]row{p.older(d), p.latest(d)} {
					if r.outcome == unmatched {
						continue
					}
					date := f.Latest
					if r.old {
						date = f.Older
					}
					buf = append(buf, taskcreate.ActionVector{
						OrganizationID:         f.org,
						VariantID:              pair.VariantID,
						ShopID:                 pair.ShopID,
						SnapshotDate:           date,
						Domain:                 d,
						RecommendedQty:         r.qty,
						RecommendedDiscountPct: r.discount,
						Confidence:             r.confidence,
						Snapshot:               r.evidence(d, date, f.shopIDs),
					})
					if len(buf) == chunk {
						if !yield(buf) {
							return
						}
						buf = buf[:0]
					}
				}
			}
		}
		if len(buf) > 0 {
			yield(buf)
		}
	}
}

// pair returns the variant and shop of a position.
func (f *Fixture) pair(pos int) taskcreate.Pair {
	return taskcreate.Pair{VariantID: f.id(2, pos/f.shops), ShopID: f.shopIDs[pos%f.shops]}
}

// id returns a UUID-shaped identifier, derived from the seed, of item n of
// a kind (shops, variants), computed rather than stored so a universe of
// millions of variants costs no memory.
func (f *Fixture) id(kind uint64, n int) string {
	r := rand.NewPCG(f.seed^kind<<56, uint64(n))
	hi, lo := r.Uint64(), r.Uint64()
	hi = hi&^0xf000 | 0x4000     // version 4
	lo = lo&^(0xc<<60) | 0x8<<60 // RFC 9562 variant
	const hex = "0123456789abcdef"
	var b [36]byte
	j := 0
	for i := range 32 {
		if i == 8 || i == 12 || i == 16 || i == 20 {
			b[j] = '-'
			j++
		}
		w := hi
		if i >= 16 {
			w = lo
		}
		b[j] = hex[w>>(60-4*uint(i%16))&0xf]
		j++
	}
	return string(b[:])
}

type outcome uint8

const (
	eligible outcome = iota
	unmatched
	suppressed
	skipped
)

// row is the recommendation of one position in one domain on one date.
type row struct {
	outcome    outcome
	old        bool
	qty        *int
	discount   *float64
	confidence *float64
	// the drivers the evidence reports
	forecast     [7]int
	onHand, lead int
	sellThrough  float64
}

// position draws the rows of one position from a generator seeded by the
// position alone, in a fixed order, so every caller sees the same rows.
type position struct {
	src rand.PCG
	rng *rand.Rand
	// drawn once per reset, in domain order
	rows [3][2]row
}

func (p *position) reset(seed uint64, pos int) {
	if p.rng == nil {
		p.rng = rand.New(&p.src)
	}
	p.src.Seed(seed, uint64(pos)+1)
	for i, d := range taskcreate.Domains() {
		p.rows[i][0] = p.draw(d, true)
		p.rows[i][1] = p.draw(d, false)
	}
}

func (p *position) older(d taskcreate.Domain) row  { return p.rows[domainIndex(d)][0] }
func (p *position) latest(d taskcreate.Domain) row { return p.rows[domainIndex(d)][1] }

func domainIndex(d taskcreate.Domain) int {
	switch d {
	case taskcreate.Markdown:
		return 0
	case taskcreate.Rebalance:
		return 1
	}
	return 2
}

func (p *position) draw(d taskcreate.Domain, old bool) row {
	r := row{old: old}
	rng := p.rng
	// Every draw happens whatever the outcome, so one row's outcome never
	// shifts the values of the next.
	u, c, n, v := rng.Float64(), rng.Float64(), rng.Float64(), rng.Float64()
	for i := range r.forecast {
		r.forecast[i] = rng.IntN(40)
	}
	r.onHand, r.lead, r.sellThrough = rng.IntN(120), 1+rng.IntN(14), rng.Float64()
	if !old && u >= present {
		r.outcome = unmatched
		return r
	}
	switch {
	case c < nullConf:
		// NULL confidence: never suppressed
	case c < nullConf+lowConf:
		r.confidence = ref(round(0.05 + (c-nullConf)/lowConf*0.549))
		r.outcome = suppressed
	default:
		r.confidence = ref(round(DefaultMinConfidence + (c-nullConf-lowConf)/(1-nullConf-lowConf)*0.399))
	}
	noop := n < noOp
	switch {
	case d == taskcreate.Markdown && noop:
		if v < 0.5 {
			r.discount = ref(0.0)
		}
	case d == taskcreate.Markdown:
		r.discount = ref(float64(5 + int(v*46)))
	case noop:
		if v < 0.5 {
			r.qty = ref(0)
		}
	default:
		r.qty = ref(1 + int(v*120))
	}
	if noop && r.outcome == eligible {
		r.outcome = skipped
	}
	if old {
		r.outcome = eligible // never read: only the latest snapshot counts
	}
	return r
}

// evidence returns the JSON "why" of r, about 300 bytes, with the keys a
// forecasting pipeline writes.
func (r row) evidence(d taskcreate.Domain, date time.Time, shopIDs []string) json.RawMessage {
	b := make([]byte, 0, 360)
	b = append(b, `{"model":"`...)
	b = append(b, d...)
	b = append(b, `-gbm-2026.11","computedAt":"`...)
	b = date.Add(3*time.Hour+12*time.Minute).AppendFormat(b, time.RFC3339)
	b = append(b, `","forecast":{"horizonDays":7,"daily":[`...)
	for i, f := range r.forecast {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(f), 10)
	}
	b = append(b, `]},"stock":{"onHand":`...)
	b = strconv.AppendInt(b, int64(r.onHand), 10)
	b = append(b, `,"inTransit":`...)
	b = strconv.AppendInt(b, int64(r.forecast[0]/3), 10)
	b = append(b, `,"safety":`...)
	b = strconv.AppendInt(b, int64(r.forecast[1]+4), 10)
	b = append(b, `},"leadTimeDays":`...)
	b = strconv.AppendInt(b, int64(r.lead), 10)
	b = append(b, `,"sellThrough28d":`...)
	b = strconv.AppendFloat(b, round(r.sellThrough), 'f', -1, 64)
	switch d {
	case taskcreate.Rebalance:
		b = append(b, `,"fromShopId":"`...)
		b = append(b, shopIDs[(r.lead*7+r.onHand)%len(shopIDs)]...)
		b = append(b, `","reasons":["overstock_elsewhere","stockout_risk"]}`...)
	case taskcreate.Markdown:
		b = append(b, `,"weeksOfStock":`...)
		b = strconv.AppendInt(b, int64(4+r.onHand/6), 10)
		b = append(b, `,"elasticity":-1.`...)
		b = strconv.AppendInt(b, int64(r.lead), 10)
		b = append(b, `,"reasons":["slow_mover","end_of_season"]}`...)
	default:
		b = append(b, `,"reorderPoint":`...)
		b = strconv.AppendInt(b, int64(r.forecast[2]+r.lead*2), 10)
		b = append(b, `,"reasons":["below_reorder_point","lead_time_risk"]}`...)
	}
	return b
}

func ref[T any](v T) *T { return &v }

// round keeps three decimals, as the data platform publishes them.
func round(f float64) float64 { return float64(int(f*1000+0.5)) / 1000 }
