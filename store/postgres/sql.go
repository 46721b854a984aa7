package postgres

import (
	"bytes"
	"embed"
	"fmt"
	"text/template"
)

// names are the quoted SQL names statements are rendered with.
type names struct {
	Tasks        string // "schema"."tasks"
	ActionVector string
	Migrations   string
	OpenKeyIndex string // index names are unqualified: they live in their table's schema
	RunIndex     string
	LatestIndex  string
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
		Tasks:        t.quoted(),
		ActionVector: av.quoted(),
		Migrations:   t.sibling("_migrations").quoted(),
		OpenKeyIndex: quoteIdent(t.table + "_open_key"),
		RunIndex:     quoteIdent(t.table + "_run_idx"),
		LatestIndex:  quoteIdent(av.table + "_latest_idx"),
	}, nil
}

//go:embed migrations/*.sql action_vector.sql statements/*.sql
var sqlFiles embed.FS

// statements are the SQL of every operation, rendered once per Store with
// its table names. Each operation has exactly one statement shape.
type statements struct {
	materialize      string
	putActionVectors string
	listTasks        string
	setTaskStatus    string
	actionVectorDDL  string
}

func renderStatements(n names) (statements, error) {
	var s statements
	for file, dst := range map[string]*string{
		"statements/materialize.sql":        &s.materialize,
		"statements/put_action_vectors.sql": &s.putActionVectors,
		"statements/list_tasks.sql":         &s.listTasks,
		"statements/set_task_status.sql":    &s.setTaskStatus,
		"action_vector.sql":                 &s.actionVectorDDL,
	} {
		text, err := render(file, n)
		if err != nil {
			return statements{}, err
		}
		*dst = text
	}
	return s, nil
}

// render fills an embedded SQL template with validated, quoted names.
func render(file string, n names) (string, error) {
	src, err := sqlFiles.ReadFile(file)
	if err != nil {
		return "", err
	}
	tmpl, err := template.New(file).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return "", fmt.Errorf("postgres: %s: %w", file, err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, n); err != nil {
		return "", fmt.Errorf("postgres: %s: %w", file, err)
	}
	return buf.String(), nil
}
