package main

import (
	"database/sql"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"
)

func dropDatabase(t *testing.T, dsn string) {
	t.Helper()
	cfg, err := gomysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := cfg.DBName
	cfg.DBName = ""
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("DROP DATABASE " + name); err != nil {
		t.Fatal(err)
	}
}
