package sqlite_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	tasksqlite "github.com/actionvector/tasks/store/sqlite"
)

func TestInvalidOptionsFailWhenTheStoreIsBuilt(t *testing.T) {
	tests := map[string]tasksqlite.Option{
		"WithClock":       tasksqlite.WithClock(nil),
		"WithBusyTimeout": tasksqlite.WithBusyTimeout(-time.Second),
		"WithChunkSize":   tasksqlite.WithChunkSize(0),
	}
	for name, opt := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := tasksqlite.Open(t.Context(), ":memory:", opt); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("Open with a bad %s: want an error naming it, got %v", name, err)
			}
			if msg := panicOf(func() { tasksqlite.New(&sql.DB{}, opt) }); !strings.Contains(msg, name) {
				t.Errorf("New with a bad %s: want a panic naming it, got %q", name, msg)
			}
		})
	}
	if msg := panicOf(func() { tasksqlite.New(nil) }); !strings.Contains(msg, "nil *sql.DB") {
		t.Errorf("New(nil): want a panic naming the nil pool, got %q", msg)
	}
}

// panicOf returns what f panics with, or "" if it returns.
func panicOf(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}
