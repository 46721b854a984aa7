package postgres

import (
	"bytes"
	"embed"
	"fmt"
	"text/template"
)

// names are the quoted SQL names statements are rendered with, and the
// layout they are rendered for.
type names struct {
	Tasks             string // "schema"."tasks"
	ActionVector      string
	Migrations        string
	OpenKeyIndex      string // index names are unqualified: they live in their table's schema
	OpenKeyIndexTable string // the open-key index, schema-qualified as the tasks table is, for DROP INDEX
	RunIndex          string
	RunIndexTable     string // the run index, schema-qualified as the tasks table is, for DROP INDEX
	LatestIndex       string
	TasksTable        string // schema.tasks as configured, for telemetry and errors
	ActionVectorTable string // as configured
	Citus             bool   // the migrations of the distributed layout
	PreviewRows       bool   // preview.sql lists candidates instead of counting them
	Retire            bool   // materialize.sql also retires stale tasks
	List              bool   // materialize.sql lists candidates instead of counting them
}

func newNames(tasks, actionVector string) (names, error) {
	t, err := parseTableName("WithTasksTable", tasks)
	if err != nil {
		return names{}, err
	}
	av, err := parseTableName("WithActionVectorTable", actionVector)
	if err != nil {
		return names{}, err
	}
	return names{
		Tasks:             t.quoted(),
		TasksTable:        tasks,
		ActionVectorTable: actionVector,
		ActionVector:      av.quoted(),
		Migrations:        t.sibling("_migrations").quoted(),
		OpenKeyIndex:      quoteIdent(t.table + "_open_key"),
		OpenKeyIndexTable: t.sibling("_open_key").quoted(),
		RunIndex:          quoteIdent(t.table + "_run_idx"),
		RunIndexTable:     t.sibling("_run_idx").quoted(),
		LatestIndex:       quoteIdent(av.table + "_latest_idx"),
	}, nil
}

//go:embed migrations/*.sql action_vector.sql statements/*.sql
var sqlFiles embed.FS

// statements are the SQL of every operation, rendered once per Store with
// its table names. Each operation has one statement shape per layout: on
// one server, materialize, in four variants: [retire stale][list outcomes];
// on Citus, lockStale when retiring, upsertTasks, countOutcomes, then
// retireStale and previewRows as asked.
type statements struct {
	materialize      [2][2]string
	upsertTasks      string
	countOutcomes    string
	lockStale        string
	retireStale      string
	previewCounts    string
	previewRows      string
	sweepRun         string
	countSweep       string
	putActionVectors string
	listTasks        string
	setTaskStatus    string
}

func renderStatements(n names) (statements, error) {
	var s statements
	rows := n
	rows.PreviewRows = true
	text, err := render("statements/preview.sql", rows)
	if err != nil {
		return statements{}, err
	}
	s.previewRows = text
	for retire := range 2 {
		for list := range 2 {
			variant := n
			variant.Retire, variant.List = retire == 1, list == 1
			if s.materialize[retire][list], err = render("statements/materialize.sql", variant); err != nil {
				return statements{}, err
			}
		}
	}
	for file, dst := range map[string]*string{
		"statements/upsert_tasks.sql":       &s.upsertTasks,
		"statements/count_outcomes.sql":     &s.countOutcomes,
		"statements/lock_stale.sql":         &s.lockStale,
		"statements/retire_stale.sql":       &s.retireStale,
		"statements/preview.sql":            &s.previewCounts,
		"statements/sweep_run.sql":          &s.sweepRun,
		"statements/count_sweep.sql":        &s.countSweep,
		"statements/put_action_vectors.sql": &s.putActionVectors,
		"statements/list_tasks.sql":         &s.listTasks,
		"statements/set_task_status.sql":    &s.setTaskStatus,
	} {
		text, err := render(file, n)
		if err != nil {
			return statements{}, err
		}
		*dst = text
	}
	return s, nil
}

// render fills an embedded SQL template with validated, quoted names; the
// shared parts of the CreateTasks statements (statements/candidates.sql)
// are defined for every file.
func render(file string, n names) (string, error) {
	src, err := sqlFiles.ReadFile(file)
	if err != nil {
		return "", err
	}
	shared, err := sqlFiles.ReadFile("statements/candidates.sql")
	if err != nil {
		return "", err
	}
	tmpl, err := template.New(file).Option("missingkey=error").Parse(string(shared))
	if err == nil {
		tmpl, err = tmpl.Parse(string(src))
	}
	if err != nil {
		return "", fmt.Errorf("postgres: %s: %w", file, err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, n); err != nil {
		return "", fmt.Errorf("postgres: %s: %w", file, err)
	}
	return buf.String(), nil
}
