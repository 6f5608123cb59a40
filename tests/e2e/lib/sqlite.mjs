// Read the host's SQLite file from the tests (python3's sqlite3 module: no npm native build needed).
import { execFileSync } from "node:child_process";

export function query(dbPath, sql) {
  const py = "import json,sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nprint(json.dumps([list(r) for r in c.execute(sys.argv[2])]))";
  return JSON.parse(execFileSync("python3", ["-c", py, dbPath, sql], { encoding: "utf8" }));
}
