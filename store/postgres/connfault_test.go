package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/store/postgres"
	"github.com/actionvector/tasks/taskcreate"
)

// These tests break the connection under calls, through pgProxy, and check
// what each call reports against the rows, read around the proxy: a
// success is committed as reported, another error wrote nothing, and an
// outcome-unknown error wrote all or nothing, which repeating the call
// then completes.

// taskRow is what the checks compare of a task.
type taskRow struct {
	key              string // domain/shop/variant
	status, run      string
	created, updated int64 // microseconds since the epoch
}

// taskState is an organization's tasks, by id.
type taskState map[uuid.UUID]taskRow

// What a call's rows show.
type written string

const (
	wroteNothing written = "nothing"
	wroteAll     written = "all of the call"
	wrotePart    written = "part of the call"
)

// compare tells whether after is before unchanged, or before with the
// whole call applied once: every open task of its keys refreshed and owned
// by run, a new open task for each other key, all stamped at now and
// nothing else touched. It counts what the call created and updated.
func compare(before, after taskState, keys []string, run string, now int64) (w written, created, updated int) {
	if len(before) == len(after) {
		same := true
		for id, b := range before {
			if a, ok := after[id]; !ok || a != b {
				same = false
				break
			}
		}
		if same {
			return wroteNothing, 0, 0
		}
	}
	inCall := make(map[string]bool, len(keys))
	for _, k := range keys {
		inCall[k] = true
	}
	open := map[string]bool{}
	for id, b := range before {
		want := b
		if inCall[b.key] && (b.status == "OPEN" || b.status == "IN_PROGRESS") {
			open[b.key] = true
			want.run, want.updated = run, now
			updated++
		}
		if a, ok := after[id]; !ok || a != want {
			return wrotePart, 0, 0
		}
	}
	for id, a := range after {
		if _, old := before[id]; old {
			continue
		}
		if !inCall[a.key] || open[a.key] || a != (taskRow{key: a.key, status: "OPEN", run: run, created: now, updated: now}) {
			return wrotePart, 0, 0
		}
		open[a.key] = true
		created++
	}
	if created+updated != len(inCall) {
		return wrotePart, 0, 0
	}
	return wroteAll, created, updated
}

// faultStats counts the calls of one fault class.
type faultStats struct {
	calls, fired, ok, unknown, unknownWrote, other int
	retried                                        int // calls whose store failed an attempt the service retried
	firstErr, firstRetried                         string
}

// attemptsStore keeps the errors of the attempts of a call, which the
// service retries out of sight.
type attemptsStore struct {
	taskcreate.TaskStore
	errs []error
}

func (s *attemptsStore) MaterializeTasks(ctx context.Context, b *store.Batch) (store.Outcome, error) {
	out, err := s.TaskStore.MaterializeTasks(ctx, b)
	if err != nil {
		s.errs = append(s.errs, err)
	}
	return out, err
}

// faultHarness makes calls through a proxy and checks each against the
// rows of a table read directly.
type faultHarness struct {
	t          *testing.T
	proxy      *pgProxy
	svc        *taskcreate.Service
	ts         *attemptsStore
	now        time.Time         // the service's clock, moved on before each call
	direct     *sql.DB           // reaches the rows without the proxy
	tables     map[string]string // the table holding each organization's tasks, on direct's server
	rnd        *rand.Rand
	stats      map[string]*faultStats
	mismatches int
}

func newFaultHarness(t *testing.T, proxy *pgProxy, ts taskcreate.TaskStore, direct *sql.DB, tables map[string]string) *faultHarness {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	h := &faultHarness{t: t, proxy: proxy, direct: direct, tables: tables,
		now: time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC), rnd: rand.New(rand.NewPCG(seed, seed)), stats: map[string]*faultStats{}}
	// One attempt more than a single fault needs: a fault breaks one
	// attempt, the next runs on a fresh connection.
	h.ts = &attemptsStore{TaskStore: ts}
	h.svc = taskcreate.New(h.ts, taskcreate.WithRetry(3, time.Millisecond), taskcreate.WithClock(func() time.Time { return h.now }))
	return h
}

func (h *faultHarness) tasks(org string) taskState {
	h.t.Helper()
	rows, err := h.direct.QueryContext(h.t.Context(), `SELECT id, domain || '/' || shop_id || '/' || variant_id, status, workflow_run_id,
		created_at, updated_at FROM `+h.tables[org]+` WHERE organization_id = $1`, org)
	require.NoError(h.t, err)
	defer rows.Close()
	out := taskState{}
	for rows.Next() {
		var id uuid.UUID
		var r taskRow
		var created, updated time.Time
		require.NoError(h.t, rows.Scan(&id, &r.key, &r.status, &r.run, &created, &updated))
		r.created, r.updated = created.UnixMicro(), updated.UnixMicro()
		out[id] = r
	}
	require.NoError(h.t, rows.Err())
	return out
}

// settle waits until no session holds a lock on the tasks tables: one the
// proxy broke may still hold its transaction, or be committing it, until
// its server process notices, and the rows read must be final.
func (h *faultHarness) settle() {
	h.t.Helper()
	tables := slices.Collect(maps.Values(h.tables))
	require.Eventually(h.t, func() bool {
		var busy bool
		err := h.direct.QueryRowContext(h.t.Context(), `SELECT EXISTS (SELECT FROM pg_locks
			WHERE relation IN (SELECT unnest($1::text[])::regclass) AND pid <> pg_backend_pid())`, tables).Scan(&busy)
		return err == nil && !busy
	}, 10*time.Second, 2*time.Millisecond)
}

// finishSome marks DONE the open tasks of about a third of the perimeter,
// so that the call creates tasks for them beside the history, and
// refreshes the others.
func (h *faultHarness) finishSome(org string, perimeter []taskcreate.Pair) {
	h.t.Helper()
	var variants []string
	for _, p := range perimeter {
		if h.rnd.IntN(3) == 0 {
			variants = append(variants, p.VariantID)
		}
	}
	_, err := h.direct.ExecContext(h.t.Context(), `UPDATE `+h.tables[org]+` SET status = 'DONE'
		WHERE organization_id = $1 AND status = 'OPEN' AND variant_id = ANY($2)`, org, variants)
	require.NoError(h.t, err)
}

// call runs req with fault armed (none when nil), checks what it reports
// against the rows, and repeats it when the outcome is unknown.
func (h *faultHarness) call(class string, fault *proxyFault, req taskcreate.Request) {
	t := h.t
	t.Helper()
	st := h.stats[class]
	if st == nil {
		st = &faultStats{}
		h.stats[class] = st
	}
	st.calls++
	keys := make([]string, len(req.Perimeter))
	for i, p := range req.Perimeter {
		keys[i] = string(taskcreate.Restock) + "/" + p.ShopID + "/" + p.VariantID
	}
	mismatch := func(format string, args ...any) {
		t.Helper()
		h.mismatches++
		t.Errorf("%s, %s: "+format, append([]any{class, req.WorkflowRunID}, args...)...)
	}

	h.finishSome(req.OrganizationID, req.Perimeter)
	before := h.tasks(req.OrganizationID)
	h.now = h.now.Add(time.Second)
	h.proxy.arm(fault)
	h.ts.errs = nil
	res, err := h.run(req)
	if h.proxy.arm(nil) {
		st.fired++
	}
	if err == nil && len(h.ts.errs) > 0 || len(h.ts.errs) > 1 {
		st.retried++
		if st.firstRetried == "" {
			st.firstRetried = h.ts.errs[0].Error()
		}
	}
	h.settle()
	after := h.tasks(req.OrganizationID)
	w, created, updated := compare(before, after, keys, req.WorkflowRunID, h.now.UnixMicro())
	if err != nil && st.firstErr == "" {
		st.firstErr = err.Error()
	}
	switch {
	case err == nil:
		st.ok++
		if w != wroteAll || res.Created != created || res.Updated != updated || res.Unmatched != len(keys) {
			mismatch("reported %+v; the rows show %s, created %d, updated %d", res, w, created, updated)
		}
	case errors.Is(err, taskcreate.ErrOutcomeUnknown):
		st.unknown++
		if w == wroteAll {
			st.unknownWrote++
		}
		if w == wrotePart {
			mismatch("outcome unknown (%v); the rows show %s", err, w)
			return
		}
		// Repeating the call completes it either way.
		h.now = h.now.Add(time.Second)
		res, err := h.run(req)
		h.settle()
		again := h.tasks(req.OrganizationID)
		w, created, updated := compare(after, again, keys, req.WorkflowRunID, h.now.UnixMicro())
		if err != nil || w != wroteAll || res.Created != created || res.Updated != updated {
			mismatch("the repeat after an unknown outcome reported %+v, %v; the rows show %s, created %d, updated %d",
				res, err, w, created, updated)
		}
	default:
		st.other++
		if w != wroteNothing {
			mismatch("failed (%v); the rows show %s", err, w)
		}
	}
}

func (h *faultHarness) run(req taskcreate.Request) (taskcreate.Result, error) {
	ctx, cancel := context.WithTimeout(h.t.Context(), 20*time.Second)
	defer cancel()
	return h.svc.CreateTasks(ctx, req)
}

// summary logs the counts of each fault class.
func (h *faultHarness) summary(elapsed time.Duration) {
	classes := make([]string, 0, len(h.stats))
	for c := range h.stats {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	var b strings.Builder
	for _, c := range classes {
		s := h.stats[c]
		fmt.Fprintf(&b, "\n  %-20s calls %3d  fired %3d  success %3d  outcome unknown %3d (wrote %3d)  other errors %3d  retried %3d",
			c, s.calls, s.fired, s.ok, s.unknown, s.unknownWrote, s.other, s.retried)
		if s.firstErr != "" {
			fmt.Fprintf(&b, "\n  %20s first error: %s", "", s.firstErr)
		}
		if s.firstRetried != "" {
			fmt.Fprintf(&b, "\n  %20s first retried: %s", "", s.firstRetried)
		}
	}
	_, ends := h.proxy.stats()
	h.t.Logf("%v, %d mismatches; statements ending the test's transactions through the proxy: %v%s",
		elapsed.Round(time.Millisecond), h.mismatches, ends, b.String())
}

// window returns n pairs of all, from the i-th on, wrapping around: calls
// over a rotating set of keys both create and update.
func window(all []taskcreate.Pair, i, n int) []taskcreate.Pair {
	out := make([]taskcreate.Pair, n)
	for j := range out {
		out[j] = all[(i+j)%len(all)]
	}
	return out
}

// viaAddr returns dsn, a URL, with its host and port replaced by addr and
// without TLS, which the proxy does not read through.
func viaAddr(t *testing.T, dsn, addr string, params ...string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	require.NoError(t, err, "the server's variable must be a URL")
	u.Host = addr
	q := u.Query()
	q.Set("sslmode", "disable")
	for i := 0; i+1 < len(params); i += 2 {
		q.Set(params[i], params[i+1])
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// hostPort returns the address a URL names.
func hostPort(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	require.NotEmpty(t, u.Hostname(), "the server's URL must name a TCP host")
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// TestOutcomesAcrossConnectionFaults breaks the connection under hundreds
// of calls on PostgreSQL, at random bytes in either direction and around
// the COMMIT, and checks every reported outcome against the rows: through
// database/sql (New) and through a pgx pool (NewFromPool).
func TestOutcomesAcrossConnectionFaults(t *testing.T) {
	for _, via := range []struct {
		name string
		open func(t *testing.T, url string, opts []postgres.Option) *postgres.Store
	}{
		{"database-sql", func(t *testing.T, url string, opts []postgres.Option) *postgres.Store {
			db, err := sql.Open("pgx", url)
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			return postgres.New(db, opts...)
		}},
		{"pgxpool", func(t *testing.T, url string, opts []postgres.Option) *postgres.Store {
			pool, err := pgxpool.New(t.Context(), url)
			require.NoError(t, err)
			t.Cleanup(pool.Close)
			return postgres.NewFromPool(pool, opts...)
		}},
	} {
		t.Run(via.name, func(t *testing.T) { outcomesAcrossConnectionFaults(t, via.open) })
	}
}

func outcomesAcrossConnectionFaults(t *testing.T, open func(t *testing.T, url string, opts []postgres.Option) *postgres.Store) {
	start := time.Now()
	admin := testPool(t)
	dsn := os.Getenv(urlVariable)
	schema := single.newSchema(t)
	opts := []postgres.Option{postgres.WithTasksTable(schema + ".tasks"), postgres.WithActionVectorTable(schema + ".action_vector")}
	proxy := startProxy(t, hostPort(t, dsn), "")
	ts := open(t, viaAddr(t, dsn, proxy.ln.Addr().String()), opts)
	require.NoError(t, ts.Migrate(t.Context()), "unarmed, the proxy forwards everything")

	const org = "org"
	keys := pairs(24)
	require.NoError(t, ts.PutActionVectors(t.Context(), restockVectors(org, keys)))
	h := newFaultHarness(t, proxy, ts, admin, map[string]string{org: schema + ".tasks"})

	n := 0
	request := func() taskcreate.Request {
		n++
		return taskcreate.Request{OrganizationID: org, WorkflowRunID: fmt.Sprintf("run-%03d", n),
			Domains: []taskcreate.Domain{taskcreate.Restock, taskcreate.Markdown}, Perimeter: window(keys, n*5, 8)}
	}
	// Unfaulted calls measure the bytes a call exchanges on a warm
	// connection; the cuts fall within them.
	exchanged := [2]int64{1 << 62, 1 << 62}
	for range 4 {
		was, _ := proxy.stats()
		h.call("none", nil, request())
		now, _ := proxy.stats()
		for d := range exchanged {
			exchanged[d] = min(exchanged[d], now[d]-was[d])
		}
	}
	t.Logf("a call exchanges at least %d bytes client->server, %d server->client", exchanged[toServer], exchanged[toClient])

	var plan []proxyFault
	for range 120 {
		d := direction(h.rnd.IntN(2))
		plan = append(plan, proxyFault{kind: cutBytes, dir: d, after: h.rnd.Int64N(exchanged[d])})
	}
	for range 60 {
		plan = append(plan, proxyFault{kind: dropCommit}, proxyFault{kind: loseCommitAnswer})
	}
	h.play(plan, request, start)
}

func faultClass(f proxyFault) string {
	switch f.kind {
	case dropCommit:
		return "COMMIT dropped"
	case loseCommitAnswer:
		return "COMMIT answer lost"
	}
	return "cut " + [...]string{"client->server", "server->client"}[f.dir]
}

// TestCitusWorkerCommitCut puts a proxy between the Citus coordinator and
// the worker holding the test's organizations, and breaks the worker's
// COMMIT: the coordinator's client then cannot know whether the worker
// committed, and must say so.
func TestCitusWorkerCommitCut(t *testing.T) {
	start := time.Now()
	admin, _ := distributed.pools(t)
	dsn := os.Getenv(distributed.variable)
	ts := distributed.newStore(t)
	schema := storeSchema(ts)
	ctx := t.Context()

	// The worker of the first organization, and the organizations whose
	// shard it holds.
	type placement struct {
		shard, node int64
		host        string
		port        int
	}
	placementOf := func(org string) placement {
		var p placement
		require.NoError(t, admin.QueryRowContext(ctx, `
			SELECT p.shardid, n.nodeid, n.nodename, n.nodeport FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
			WHERE p.shardid = get_shard_id_for_distribution_column($1::regclass, $2::text) AND n.noderole = 'primary'`,
			schema+".tasks", org).Scan(&p.shard, &p.node, &p.host, &p.port))
		return p
	}
	worker := placementOf("org-00")
	tables := map[string]string{} // the shard of each organization, on the worker
	var orgs []string
	for i := 0; len(orgs) < 2; i++ {
		require.Less(t, i, 64, "no second organization on the worker")
		org := fmt.Sprintf("org-%02d", i)
		if p := placementOf(org); p.node == worker.node {
			orgs = append(orgs, org)
			tables[org] = fmt.Sprintf("%s.tasks_%d", schema, p.shard)
		}
	}
	keys := pairs(16)
	for _, org := range orgs {
		require.NoError(t, ts.PutActionVectors(ctx, restockVectors(org, keys)))
	}
	workerAddr := net.JoinHostPort(worker.host, fmt.Sprint(worker.port))
	direct, err := sql.Open("pgx", viaAddr(t, dsn, workerAddr))
	require.NoError(t, err)
	t.Cleanup(func() { direct.Close() })

	// The coordinator's other sessions, and other test processes sharing
	// the cluster, reach the worker through the proxy too: only the
	// transactions on this test's schema are faulted.
	proxy := startProxy(t, workerAddr, schema+".")
	proxyPort := proxy.ln.Addr().(*net.TCPAddr).Port
	routeThroughProxy(t, dsn, worker.node, worker.host, worker.port, proxyPort)

	h := newFaultHarness(t, proxy, ts, direct, tables)
	n := 0
	request := func() taskcreate.Request {
		n++
		return taskcreate.Request{OrganizationID: orgs[n%len(orgs)], WorkflowRunID: fmt.Sprintf("run-%03d", n),
			Domains: []taskcreate.Domain{taskcreate.Restock, taskcreate.Markdown}, Perimeter: window(keys, n*3, 6)}
	}
	// The coordinator reaches the worker through the proxy, in plain text,
	// once it has reloaded its configuration.
	deadline := time.Now().Add(10 * time.Second)
	for _, ends := proxy.stats(); ends["COMMIT"] == 0; _, ends = proxy.stats() {
		require.True(t, time.Now().Before(deadline), "the coordinator does not reach the worker through the proxy in plain text")
		h.call("none", nil, request())
	}

	plan := slices.Repeat([]proxyFault{{kind: dropCommit}, {kind: loseCommitAnswer}}, 30)
	h.play(plan, request, start)
}

// routeThroughProxy points the coordinator at the proxy for a worker, in
// plain text, and puts the cluster back as it was when the test ends:
// other tests share it. It does so on a session of its own, closed
// afterwards: on Citus 13.2 a session that moved a node and back fails
// its later DDL ("cannot have multiple metadata connections"), and the
// admin pool's sessions go on to create and drop schemas.
func routeThroughProxy(t *testing.T, dsn string, node int64, host string, port, proxyPort int) {
	t.Helper()
	ctx := t.Context()
	mover, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	mover.SetMaxOpenConns(1)
	mover.SetMaxIdleConns(1)
	t.Cleanup(func() { mover.Close() })

	var conninfo string
	var fromAlterSystem bool
	require.NoError(t, mover.QueryRowContext(ctx, `SELECT setting, coalesce(sourcefile LIKE '%postgresql.auto.conf', false)
		FROM pg_settings WHERE name = 'citus.node_conninfo'`).Scan(&conninfo, &fromAlterSystem))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		stmt := `ALTER SYSTEM RESET citus.node_conninfo`
		if fromAlterSystem {
			stmt = `ALTER SYSTEM SET citus.node_conninfo = ` + sqlString(conninfo)
		}
		_, err := mover.ExecContext(ctx, stmt)
		if err == nil {
			_, err = mover.ExecContext(ctx, `SELECT pg_reload_conf()`)
		}
		if err != nil {
			t.Errorf("restore citus.node_conninfo %q: %v", conninfo, err)
		}
	})
	// The proxy reads the protocol, so the coordinator must not encrypt it.
	_, err = mover.ExecContext(ctx, `ALTER SYSTEM SET citus.node_conninfo = 'sslmode=disable'`)
	require.NoError(t, err)
	_, err = mover.ExecContext(ctx, `SELECT pg_reload_conf()`)
	require.NoError(t, err)

	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := mover.ExecContext(ctx, `SELECT citus_update_node($1, $2, $3)`, node, host, port)
		if err == nil {
			err = metadataSynced(ctx, mover)
		}
		if err != nil {
			t.Errorf("restore node %d to %s:%d: %v", node, host, port, err)
		}
	})
	_, err = mover.ExecContext(ctx, `SELECT citus_update_node($1, '127.0.0.1', $2)`, node, proxyPort)
	require.NoError(t, err)
	require.NoError(t, metadataSynced(ctx, mover))
}

// metadataSynced waits until every worker holds the coordinator's
// metadata again: moving a node leaves them out of sync until the
// maintenance daemon catches up, and until then DDL, such as dropping a
// test's schema, fails.
func metadataSynced(ctx context.Context, admin *sql.DB) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		var synced bool
		err := admin.QueryRowContext(ctx, `SELECT coalesce(bool_and(metadatasynced), true) FROM pg_dist_node WHERE hasmetadata AND isactive`).Scan(&synced)
		if err != nil || synced {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("metadata still out of sync: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// play makes one call of request() per fault of plan, in a shuffled order,
// then reports and checks: no mismatch, and every COMMIT fault met.
func (h *faultHarness) play(plan []proxyFault, request func() taskcreate.Request, start time.Time) {
	h.t.Helper()
	h.rnd.Shuffle(len(plan), func(i, j int) { plan[i], plan[j] = plan[j], plan[i] })
	for _, f := range plan {
		h.call(faultClass(f), &f, request())
	}
	h.summary(time.Since(start))
	assert.Zero(h.t, h.mismatches)
	for _, kind := range []faultKind{dropCommit, loseCommitAnswer} {
		class := faultClass(proxyFault{kind: kind})
		assert.Equal(h.t, h.stats[class].calls, h.stats[class].fired, "every call of %s meets its fault", class)
	}
}
