// Command server is the shortest service that embeds the endpoints: the
// task-create and task-sweep handlers of taskhttp on a ServeMux, over a
// SQLite file, their OpenAPI document at GET /openapi.yaml (without the
// token), every other path answered in the envelope:
//
//	TASKS_INTERNAL_TOKEN=change-me go run ./examples/server -db tasks.db
//
// The server to run, with PostgreSQL, a bound on calls and bytes, health,
// readiness and metrics, is the tasks command's serve (cmd/tasks).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/actionvector/tasks/store/sqlite"
	"github.com/actionvector/tasks/taskcreate"
	"github.com/actionvector/tasks/taskcreate/taskhttp"
)

func main() {
	addr := flag.String("addr", ":8080", "address to listen on")
	db := flag.String("db", "tasks.db", "SQLite database file")
	flag.Parse()
	token := os.Getenv("TASKS_INTERNAL_TOKEN")
	if token == "" {
		log.Fatal("TASKS_INTERNAL_TOKEN is not set; refusing to serve without authentication")
	}
	store, err := sqlite.Open(context.Background(), *db)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	handler, err := newHandler(taskcreate.New(store), token)
	if err != nil {
		log.Fatal(err)
	}
	server := &http.Server{Addr: *addr, Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	log.Printf("listening on %s", *addr)
	if err := server.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// newHandler mounts both endpoints of svc, behind token, and their
// document, open to all.
func newHandler(svc *taskcreate.Service, token string) (http.Handler, error) {
	opts := taskhttp.Options{Token: token, Timeout: time.Minute}
	create, err := taskhttp.NewHandler(svc, opts)
	if err != nil {
		return nil, fmt.Errorf("task-create handler: %w", err)
	}
	sweep, err := taskhttp.NewSweepHandler(svc, opts)
	if err != nil {
		return nil, fmt.Errorf("task-sweep handler: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle(taskhttp.Path, create) // any method: the handler answers its own 405
	mux.Handle(taskhttp.SweepPath, sweep)
	mux.HandleFunc("GET "+taskhttp.OpenAPIPath, taskhttp.ServeOpenAPI)
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		taskhttp.WriteError(w, taskhttp.ErrNotFound)
	}))
	return mux, nil
}
