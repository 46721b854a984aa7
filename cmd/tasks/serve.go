package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/actionvector/tasks/store/postgres"
	"github.com/actionvector/tasks/taskcreate"
	"github.com/actionvector/tasks/taskcreate/taskhttp"
)

const (
	readTimeout    = time.Minute // the whole request, body included: 64 MiB at about 1 MB/s
	requestTimeout = time.Minute // creating the tasks, once the body is read
	// writeTimeout runs from the end of the headers to the end of the
	// response, so it covers both of the above: a slow call gets its 504
	// instead of a dropped connection.
	writeTimeout = readTimeout + requestTimeout + 30*time.Second
	idleTimeout  = 2 * time.Minute
)

// serveHelp is serve's -h.
var serveHelp = help{synopsis: "serve [flags]", text: `Serves the task-create endpoint, POST ` + taskhttp.Path + `,
and the sweep endpoint, POST ` + taskhttp.SweepPath + `,
to callers with the bearer token in TASKS_INTERNAL_TOKEN (required), after
migrating the database. On -admin-addr, without the token: GET ` + healthPath + `,
` + readyPath + ` and ` + metricsPath + `. SIGINT or SIGTERM stops it after in-flight requests finish.`}

// serve is the serve subcommand: it serves until ctx is done, then shuts
// down gracefully. Logs go to standard output, starting with a "listening"
// line that holds the address.
func serve(ctx context.Context, p process, args []string) error {
	flags := newFlagSet("serve")
	addr := flags.String("addr", ":8080", "`address` to listen on")
	config := addStoreFlags(flags)
	demo := flags.Bool("demo", false, "seed the recommendations that make the reference request create two tasks, and tasks of a dead run to sweep")
	shutdownTimeout := flags.Duration("shutdown-timeout", 15*time.Second, "how long in-flight requests may run after SIGINT or SIGTERM")
	maxCalls := flags.Int("max-calls", 32, "most task-create calls served at once; beyond them callers get 429 with Retry-After")
	maxInFlight := flags.Int64("max-inflight-bytes", taskhttp.DefaultMaxInFlightBytes,
		"most request bytes held at once, from admission to response; beyond them callers get 429 with Retry-After (9223372036854775807: no bound)")
	flags.IntVar(&config.maxConns, "max-conns", postgres.DefaultMaxConns, "most connections to PostgreSQL")
	adminAddr := flags.String("admin-addr", "127.0.0.1:9090", "`address` of "+healthPath+", "+readyPath+" and "+metricsPath+", served without the token")
	if _, err := parseStoreFlags(flags, args, p, serveHelp, config, 0); err != nil {
		return err
	}
	token := p.getenv(tokenEnv)
	if token == "" {
		return invalidf("%s is not set; refusing to serve without authentication", tokenEnv)
	}
	logger := slog.New(slog.NewTextHandler(p.stdout, nil))

	store, database, err := openStore(ctx, *config)
	if err != nil {
		return err
	}
	defer store.Close()
	ready, err := openReadiness(*config)
	if err != nil {
		return err
	}
	defer ready.Close()
	meterProvider, registry, err := newMetrics(store.DB())
	if err != nil {
		return err
	}
	defer meterProvider.Shutdown(context.Background())
	svc := taskcreate.New(store, taskcreate.WithMeterProvider(meterProvider))
	if *demo {
		if err := seedDemo(ctx, store, svc, time.Now()); err != nil {
			return fmt.Errorf("seeding the demo data: %w", err)
		}
	}

	opts := taskhttp.Options{
		Token:              token,
		Timeout:            requestTimeout,
		MaxConcurrentCalls: *maxCalls,
		MaxInFlightBytes:   *maxInFlight,
		Logger:             logger,
	}
	handler, err := taskhttp.NewHandler(svc, opts)
	if err != nil {
		return err
	}
	sweep, err := taskhttp.NewSweepHandler(svc, opts)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	// No method in the pattern: the handler answers other methods with its
	// own JSON 405, like every other error.
	mux.Handle(taskhttp.Path, handler)
	mux.Handle(taskhttp.SweepPath, sweep)
	mux.HandleFunc("GET "+taskhttp.OpenAPIPath, taskhttp.ServeOpenAPI) // no token
	// Every other path answers in the same envelope.
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { taskhttp.WriteError(w, taskhttp.ErrNotFound) }))

	// The API and the admin endpoints never share a listener: the admin
	// one takes no token.
	api, err := listen(ctx, *addr, mux, logger)
	if err != nil {
		return err
	}
	admin, err := listen(ctx, *adminAddr, adminHandler(ready, registry, logger), logger)
	if err != nil {
		api.listener.Close()
		return err
	}
	logger.Info("listening", "addr", api.listener.Addr().String(), "path", taskhttp.Path, "database", database, "demo", *demo)
	logger.Info("admin listening", "addr", admin.listener.Addr().String(), "paths", []string{healthPath, readyPath, metricsPath})

	served := make(chan error, 2)
	for _, l := range []listening{api, admin} {
		go func() { served <- l.server.Serve(l.listener) }()
	}
	var serveErr error
	select {
	case serveErr = <-served:
	case <-ctx.Done():
	}

	logger.Info("shutting down", "timeout", *shutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
	defer cancel()
	// The admin listener stops last, so /readyz and /metrics answer while
	// the API drains.
	for _, l := range []listening{api, admin} {
		if err := l.server.Shutdown(shutdownCtx); err != nil {
			api.server.Close()
			admin.server.Close()
			return fmt.Errorf("shutting down: %w", err)
		}
	}
	if serveErr != nil {
		return serveErr
	}
	logger.Info("stopped")
	return nil
}

// listening is a server and the listener it serves.
type listening struct {
	server   *http.Server
	listener net.Listener
}

// listen opens addr for handler, with the server's timeouts.
func listen(ctx context.Context, addr string, handler http.Handler, logger *slog.Logger) (listening, error) {
	listener, err := new(net.ListenConfig).Listen(ctx, "tcp", addr)
	if err != nil {
		return listening{}, err
	}
	return listening{listener: listener, server: &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}}, nil
}

// demoOrganization is the organization of the endpoint's reference request.
const demoOrganization = "550e8400-e29b-41d4-a716-446655440001"

// demoZombieRun is a run the demo declares dead, whose tasks the sweep
// endpoint dismisses.
const demoZombieRun = "workflow-run-uuid-zombie"

// seedDemo writes the recommendations the endpoint's reference request
// needs, and has demoZombieRun create the tasks of two other positions.
func seedDemo(ctx context.Context, store taskStore, svc *taskcreate.Service, now time.Time) error {
	if err := store.PutActionVectors(ctx, demoRecommendations(now)); err != nil {
		return err
	}
	_, err := svc.CreateTasks(ctx, taskcreate.Request{OrganizationID: demoOrganization, WorkflowRunID: demoZombieRun,
		Domains: []taskcreate.Domain{taskcreate.Restock}, MinConfidence: 0.6,
		Perimeter: []taskcreate.Pair{{VariantID: "variant-uuid-3", ShopID: "shop-uuid-1"}, {VariantID: "variant-uuid-4", ShopID: "shop-uuid-3"}}})
	return err
}

// demoRecommendations returns restock recommendations for the two pairs of
// the endpoint's reference request, dated today so they are the latest
// snapshot, confident enough for its minConfidence of 0.6 and with units to
// reorder: the request creates one task per pair.
func demoRecommendations(now time.Time) []taskcreate.ActionVector {
	day := dateOf(now)
	restock := func(variant, shop string, qty int, confidence float64, why string) taskcreate.ActionVector {
		return taskcreate.ActionVector{OrganizationID: demoOrganization, VariantID: variant, ShopID: shop,
			SnapshotDate: day, Domain: taskcreate.Restock, RecommendedQty: &qty, Confidence: &confidence,
			Snapshot: json.RawMessage(why)}
	}
	return []taskcreate.ActionVector{
		restock("variant-uuid-1", "shop-uuid-1", 24, 0.91, `{"daysOfCover":1.5,"forecast7d":31}`),
		restock("variant-uuid-2", "shop-uuid-2", 10, 0.78, `{"daysOfCover":2.5,"forecast7d":19}`),
		restock("variant-uuid-3", "shop-uuid-1", 6, 0.83, `{"daysOfCover":3.0,"forecast7d":12}`),
		restock("variant-uuid-4", "shop-uuid-3", 8, 0.88, `{"daysOfCover":2.0,"forecast7d":15}`),
	}
}

// dateOf returns the calendar date of t in UTC, as midnight UTC.
func dateOf(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }
