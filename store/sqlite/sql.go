package sqlite

import (
	"embed"

	"github.com/actionvector/tasks/internal/migration"
)

//go:embed action_vector.sql migrations/*.sql statements/*.sql
var sqlFiles embed.FS

// The SQL of every operation, from the embedded files: one statement
// shape per step.
var (
	actionVectorDDL    = mustRead("action_vector.sql")
	createCandidates   = mustRead("statements/create_candidates.sql")
	clearCandidates    = mustRead("statements/clear_candidates.sql")
	classifyCandidates = mustRead("statements/classify_candidates.sql")
	upsertTasks        = mustRead("statements/upsert_tasks.sql")
	countOutcomes      = mustRead("statements/count_outcomes.sql")
	countPreview       = mustRead("statements/count_preview.sql")
	listOutcomes       = mustRead("statements/list_outcomes.sql")
	countOpen          = mustRead("statements/count_open.sql")
	sweepRun           = mustRead("statements/sweep_run.sql")
	countSweep         = mustRead("statements/count_sweep.sql")
	putActionVectors   = mustRead("statements/put_action_vectors.sql")
	listTasks          = mustRead("statements/list_tasks.sql")
	setTaskStatus      = mustRead("statements/set_task_status.sql")
)

// A retirement and its dry run share the selection of the stale tasks.
var (
	staleTasks  = mustRead("statements/stale_tasks.sql")
	retireStale = staleTasks + mustRead("statements/retire_stale.sql")
	openTasks   = staleTasks + mustRead("statements/open_tasks.sql")
)

// mustRead returns an embedded file, which the build guarantees is there.
func mustRead(file string) string {
	b, err := sqlFiles.ReadFile(file)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func migrations() ([]migration.Migration, error) {
	return migration.Load(sqlFiles, "migrations/*.sql", func(file string) (string, error) {
		b, err := sqlFiles.ReadFile(file)
		return string(b), err
	})
}
