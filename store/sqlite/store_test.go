package sqlite_test

import (
	"strings"
	"testing"
	"time"

	tasksqlite "github.com/actionvector/tasks/store/sqlite"
	"github.com/actionvector/tasks/taskcreate"
)

func TestInvalidOptionsAreReported(t *testing.T) {
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
			s := tasksqlite.New(nil, opt)
			if err := s.Migrate(t.Context()); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("Migrate of a store with a bad %s: want an error naming it, got %v", name, err)
			}
			if _, err := s.ListTasks(t.Context(), taskcreate.TaskFilter{OrganizationID: "o"}); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("ListTasks of a store with a bad %s: want an error naming it, got %v", name, err)
			}
		})
	}
}

func TestTallyFunctionRefusesCallsOutsideCreateTasks(t *testing.T) {
	s, err := tasksqlite.Open(t.Context(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v any
	err = s.DB().QueryRowContext(t.Context(), `SELECT actionvector_tasks_classified(123456789, 2)`).Scan(&v)
	if err == nil || !strings.Contains(err.Error(), "no CreateTasks call has token 123456789") {
		t.Fatalf("got %v, %v; want an error naming the unknown token", v, err)
	}
}
