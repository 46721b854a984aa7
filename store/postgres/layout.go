package postgres

import (
	"context"
	"fmt"
	"sync"

	"github.com/actionvector/tasks/internal/sqldb"
)

// hasCitus asks whether the database has the citus extension.
const hasCitus = `SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus')`

// layout is which statements a Store's calls take: the single-server ones,
// or the distributed layout's, whose every statement Citus routes to the
// one worker holding the organization. WithCitus gives it; otherwise it is
// found on the server, by Migrate or at the first call, and kept. The
// Stores WithTx and WithPgxTx return share their parent's.
type layout struct {
	mu    sync.Mutex
	known bool
	citus bool
}

// distributed reports whether the Store's tables are distributed by Citus,
// asking the server the first time. Local tables on a Citus coordinator
// take the single-server statements, as on PostgreSQL; one table
// distributed and the other not is refused, since no statement of a call
// could then run on one node.
func (s *Store) distributed(ctx context.Context, q sqldb.Querier) (bool, error) {
	l := s.layout
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.known {
		return l.citus, nil
	}
	var onCitus bool
	if err := q.QueryRowContext(ctx, hasCitus).Scan(&onCitus); err != nil {
		return false, s.wrapErr("find the layout", err)
	}
	var tasks, vectors bool
	if onCitus {
		err := q.QueryRowContext(ctx, `
			SELECT EXISTS (SELECT FROM pg_dist_partition WHERE logicalrelid = to_regclass($1)),
			       EXISTS (SELECT FROM pg_dist_partition WHERE logicalrelid = to_regclass($2))`,
			s.names.Tasks, s.names.ActionVector).Scan(&tasks, &vectors)
		if err != nil {
			return false, s.wrapErr("find the layout", err)
		}
	}
	if tasks != vectors {
		local := s.names.TasksTable
		if tasks {
			local = s.names.ActionVectorTable
		}
		return false, fmt.Errorf("postgres: on Citus, %s and %s must both be distributed by organization_id, and %s is not: "+
			"distribute it (SELECT create_distributed_table('%s', 'organization_id')), or migrate a new schema",
			s.names.TasksTable, s.names.ActionVectorTable, local, local)
	}
	l.known, l.citus = true, tasks
	return tasks, nil
}

// setLayout records the layout Migrate made.
func (s *Store) setLayout(citus bool) {
	s.layout.mu.Lock()
	defer s.layout.mu.Unlock()
	s.layout.known, s.layout.citus = true, citus
}
