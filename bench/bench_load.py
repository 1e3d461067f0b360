"""Load test (issue 18): simulated users over JSON-RPC against Odoo with prefork workers and a read replica.

Localhost only, bounded: it starts its own Odoo server (``--workers 4``, ``db_replica_host`` on the
local streaming replica of scripts/replica.sh) on a scratch database, runs ``--users`` threads for
``--duration`` seconds, stops the server and exits. Each user logs in (its own session) and calls
the web client's route ``/web/dataset/call_kw`` (JSON-RPC), where Odoo picks the replica for
read-only calls, in a seeded random mix:

- ``reserve``: a delivery of 2 units of the shared FEFO product (the ``quants`` dataset: 40 lots of
  10 units, ~10% blocked) created, confirmed and reserved (``action_assign``); a third are then
  validated, the others cancelled once the user holds more than two open ones. Every user reserves
  from the same few lots.
- ``quality``: a quality manager puts a released lot of that product in quarantine, or releases it.
- ``recall_trace``: a mock recall of a valuation lot, traced (``action_trace``).
- ``trace_read``: a recall's genealogy and its trace lines read back.
- ``valuation_page`` / ``valuation_summary``: a page of Valuation by Lot and its provision summary.
- ``kpis``: the overview's ``get_kpis`` for the last 30 days.
- ``xlsx``: the valuation spreadsheet of one category, made and downloaded.

Recorded: p50/p95/max per call type, errors (target: none), Odoo's serialization-failure
retries (its log) and how many requests failed a first, second, ... fifth time (the fifth is an
error), the statements the replica ran. Afterwards, checked by SQL: no quant reserved beyond its
quantity, reservations equal to the open move lines, no blocked/quarantined/recalled lot
reserved on a delivery, and Valuation by Lot's total equal to the sum of core's layers.

``--ops`` runs a subset of the mix; ``--core --ops reserve`` runs the reservations against Odoo
without the addon (a copy of ``$LMC_CORE_TEMPLATE``, default ``lmc_base``: the dependencies
only) on the same released lots, with the same over-reservation checks.

    .venv/bin/python bench/bench_load.py [--scale full|small] [--users 8] [--duration 120] [--workers 4]
        [--ops reserve,...] [--core] [--no-replica]
"""

import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import date, datetime, timedelta

import common
import generator
import psycopg2
import requests

# the process helpers the repository's tests use to run odoo-bin
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tests"))
from lmc_helpers import free_port, stop_server

from odoo import Command
from odoo.tools import SQL, config

NAME = "load"
VALUATION_LOTS = {"small": 1_000, "full": 5_000}
SHARED_LOTS = 40
DELIVERY_QTY = 2
OPEN_DELIVERIES_PER_USER = 2
VALIDATE_EVERY = 3
REPLICA_PORT = int(os.environ.get("LMC_REPLICA_PORT", "5433"))
CORE_TEMPLATE = os.environ.get("LMC_CORE_TEMPLATE", "lmc_base")
MIX = {
    "reserve": 30,
    "quality": 4,
    "recall_trace": 6,
    "trace_read": 12,
    "valuation_page": 14,
    "valuation_summary": 10,
    "kpis": 18,
    "xlsx": 6,
}
PAGE_FIELDS = {
    "product_id": {"fields": {"display_name": {}}},
    "lot_id": {"fields": {"display_name": {}}},
    "location_id": {"fields": {"display_name": {}}},
    "expiration_date": {},
    "shelf_life_state": {},
    "quality_state": {},
    "quantity": {},
    "value": {},
}
CONDITIONS = (
    "Everything on one machine: the Odoo server (prefork workers), the primary PostgreSQL, the replica "
    "and the simulated users' threads; its cores are shared with other sessions' tests and benchmarks "
    "(load averages before and after the run are recorded). Users call without pause."
)
CONCURRENCY_ERRORS = "(SERIALIZATION_FAILURE|DEADLOCK_DETECTED|LOCK_NOT_AVAILABLE)"
RETRY_LOG = re.compile(CONCURRENCY_ERRORS + r", (\d+) tries left")
GIVE_UP_LOG = re.compile(CONCURRENCY_ERRORS + ", maximum number of tries reached")
MAX_TRIES = 5  # odoo.service.model.MAX_TRIES_ON_CONCURRENCY_FAILURE
USER_GROUPS = [
    "stock.group_stock_manager",
    "lot_margin_control.group_lot_control_quality_manager",
    "account.group_account_manager",
]


def _options(parser):
    parser.set_defaults(scale="full", db=f"{common.DEFAULT_DB}_load")
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--duration", type=int, default=None, help="seconds (full: 120, small: 30)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--no-replica", action="store_true", help="serve every call from the primary")
    parser.add_argument(
        "--ops", default=",".join(MIX), help=f"comma-separated operations of the mix (default all: {','.join(MIX)})"
    )
    parser.add_argument(
        "--core",
        action="store_true",
        help="Odoo without the addon: a copy of $LMC_CORE_TEMPLATE (default lmc_base, the dependencies only, "
        "as `make test` keeps it), the same shared FEFO lots, reservations only",
    )


# ----------------------------------------------------------------------
# Set-up
# ----------------------------------------------------------------------
def _prepare(args):
    # a fresh copy every run: the run delivers the shared lots' stock (about 150 of their 400 units)
    generator.prepare_database(args.db, args.scale, args.seed, config=args.config, fresh=True)
    with common.odoo_env(args.db, args.config) as env:
        lots = VALUATION_LOTS[args.scale]
        generator.kpis(env, lots, args.seed)  # the overview's events, on the valuation dataset
        valuation = generator.valuation(env, lots, args.seed)
        shared = generator.quants(env, SHARED_LOTS, args.seed)
        users = env["res.users"]
        for index in range(1, args.users + 1):
            login = f"lmc_load_{index}"
            user = users.search([("login", "=", login)])
            if not user:
                user = users.create({"name": f"LMC Load User {index}", "login": login, "password": login})
            user.write({"groups_id": [Command.link(env.ref(group).id) for group in USER_GROUPS]})
            users |= user
        warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
        categories = env["product.product"].browse(valuation["product_ids"]).categ_id
        fixture = {
            "valuation_product_ids": valuation["product_ids"],
            "valuation_lot_ids": list(range(valuation["lot_ids"][0], valuation["lot_ids"][1] + 1)),
            "category_ids": categories.ids,
            "shared_product_id": shared["product_id"],
            "shared_lot_ids": env["stock.lot"].search([("product_id", "=", shared["product_id"])]).ids,
            "picking_type_id": shared["picking_type_id"],
            "stock_id": warehouse.lot_stock_id.id,
            "customer_id": env.ref("stock.stock_location_customers").id,
            "recall_ids": env["stock.lot.recall"].search([("state", "!=", "draft")]).ids
            or env["stock.lot.recall"].search([]).ids,
            "logins": users.mapped("login"),
        }
        env.cr.commit()
    return fixture


def _prepare_core(args):
    """A database without the addon, with the lots the addon's database lets deliveries take: the
    ``quants`` dataset's released lots (same seed: same expiry and receipt dates, 10 units each),
    made through the ORM; the same manual delivery type and users (stock managers)."""
    generator.prepare_database(args.db, args.scale, args.seed, template=CORE_TEMPLATE, config=args.config, fresh=True)
    with common.odoo_env(args.db, args.config) as env:
        if "stock.lot.valuation.report" in env:
            sys.exit(f"load --core: {CORE_TEMPLATE} has the addon installed; it must hold its dependencies only")
        rng = random.Random(args.seed)
        product = generator._fefo_product(env)
        warehouse = generator._main_warehouse(env)
        now = datetime.now()
        lots = env["stock.lot"]
        for index in range(SHARED_LOTS):
            expiry = rng.uniform(generator.QUANT_EXPIRY_MIN_DAYS, generator.QUANT_EXPIRY_MIN_DAYS + 400)
            received = rng.uniform(1, 90)
            if rng.random() < generator.QUANTS_BLOCKED_RATIO:
                continue  # blocked in the addon's database: no delivery may take it there
            lot = env["stock.lot"].create(
                {
                    "name": f"B{args.seed}-F{index + 1:07d}",
                    "product_id": product.id,
                    "expiration_date": now + timedelta(days=expiry),
                    "removal_date": now + timedelta(days=expiry - 5),
                }
            )
            env["stock.quant"]._update_available_quantity(
                product,
                warehouse.lot_stock_id,
                generator.QUANT_QUANTITY,
                lot_id=lot,
                in_date=now - timedelta(days=received),
            )
            lots |= lot
        users = env["res.users"]
        for index in range(1, args.users + 1):
            login = f"lmc_load_{index}"
            users |= users.create(
                {
                    "name": f"LMC Load User {index}",
                    "login": login,
                    "password": login,
                    "groups_id": [Command.link(env.ref("stock.group_stock_manager").id)],
                }
            )
        fixture = {
            "shared_product_id": product.id,
            "shared_lot_ids": lots.ids,
            "picking_type_id": generator._manual_delivery_type(env, warehouse).id,
            "stock_id": warehouse.lot_stock_id.id,
            "customer_id": env.ref("stock.stock_location_customers").id,
            "logins": users.mapped("login"),
        }
        env.cr.commit()
    return fixture


def _ensure_replica(db):
    """The replica streaming, its statement statistics readable in ``db``, the fresh data replayed."""
    command = ["bash", str(common.REPO_ROOT / "scripts" / "replica.sh"), "--watch", db]
    if subprocess.run(command, check=False).returncode:
        sys.exit("scripts/replica.sh failed: no read replica (run with --no-replica to measure without one)")


def _connect(db, port=None):
    """A connection as Odoo's configuration logs in (its role, password and host), on ``port`` if given."""
    login = {key: config[f"db_{key}"] for key in ("user", "password", "host", "port") if config[f"db_{key}"]}
    if port:
        login["port"] = port
    return psycopg2.connect(dbname=db, **login)


def _replica_statements(db):
    """Statements the replica ran in ``db`` so far (pg_stat_statements), total calls."""
    with _connect(db, REPLICA_PORT) as replica, replica.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(calls), 0) FROM pg_stat_statements"
            " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return int(cursor.fetchone()[0])


def _start_server(args, log_path):
    port, gevent_port = free_port(), free_port()
    command = [
        sys.executable,
        os.path.join(os.environ.get("ODOO_SRC", os.path.expanduser("~/odoo-18.0")), "odoo-bin"),
        "-c",
        args.config,
        "-d",
        args.db,
        f"--db-filter=^{args.db}$",
        f"--workers={args.workers}",
        "--max-cron-threads=0",
        f"--http-port={port}",
        f"--gevent-port={gevent_port}",
        "--limit-time-real=600",
        "--limit-time-cpu=600",
        "--log-level=info",
        f"--logfile={log_path}",
    ]
    if not args.no_replica:
        command += ["--db_replica_host=localhost", f"--db_replica_port={REPLICA_PORT}"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"odoo-bin exited at start; see {log_path}")
        try:
            if requests.get(f"{url}/web/login", timeout=5).status_code == 200:
                return process, url
        except requests.RequestException:
            pass
        time.sleep(1)
    stop_server(process)
    sys.exit(f"odoo-bin did not answer within 180 s; see {log_path}")


# ----------------------------------------------------------------------
# Users
# ----------------------------------------------------------------------
class RpcError(Exception):
    pass


class User:
    def __init__(self, url, db, login, fixture, seed, record):
        self.url, self.fixture, self.rng, self.record = url, fixture, random.Random(seed), record
        self.session = requests.Session()
        response = self.session.post(
            f"{url}/web/session/authenticate",
            json={"jsonrpc": "2.0", "params": {"db": db, "login": login, "password": login}},
            timeout=120,
        )
        if "error" in response.json():
            raise RpcError(response.json()["error"])
        self.open_pickings = []
        self.reservations = 0

    def call(self, model, method, args, kwargs=None, op=None):
        """One JSON-RPC call; records its time under ``op`` (default model.method)."""
        started = time.perf_counter()
        error = None
        try:
            response = self.session.post(
                f"{self.url}/web/dataset/call_kw/{model}/{method}",
                json={
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
                },
                timeout=600,
            )
            body = response.json()
            if "error" in body:
                data = body["error"].get("data", {})
                error = f"{data.get('name', 'error')}: {data.get('message', body['error'].get('message'))}"
                raise RpcError(error)
            return body["result"]
        except (requests.RequestException, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise RpcError(error) from exc
        finally:
            self.record(op or f"{model}.{method}", (time.perf_counter() - started) * 1000, error)

    # --- the operations ---------------------------------------------------
    def reserve(self):
        fixture = self.fixture
        move = {
            "name": "LMC load delivery",
            "product_id": fixture["shared_product_id"],
            "product_uom_qty": DELIVERY_QTY,
            "location_id": fixture["stock_id"],
            "location_dest_id": fixture["customer_id"],
        }
        [picking_id] = self.call(
            "stock.picking",
            "create",
            [
                [
                    {
                        "picking_type_id": fixture["picking_type_id"],
                        "location_id": fixture["stock_id"],
                        "location_dest_id": fixture["customer_id"],
                        "move_ids": [[0, 0, move]],
                    }
                ]
            ],
            op="reserve.create",
        )
        self.call("stock.picking", "action_confirm", [[picking_id]], op="reserve.confirm")
        self.call("stock.picking", "action_assign", [[picking_id]], op="reserve.action_assign")
        self.reservations += 1
        [picking] = self.call("stock.picking", "read", [[picking_id], ["state"]], op="reserve.read")
        if picking["state"] == "assigned" and self.reservations % VALIDATE_EVERY == 0:
            self.call(
                "stock.picking",
                "button_validate",
                [[picking_id]],
                {"context": {"skip_backorder": True, "skip_expired": True}},
                op="reserve.validate",
            )
            return
        self.open_pickings.append(picking_id)
        while len(self.open_pickings) > OPEN_DELIVERIES_PER_USER:
            self.call("stock.picking", "action_cancel", [[self.open_pickings.pop(0)]], op="reserve.cancel")

    def quality(self):
        lot_id = self.rng.choice(self.fixture["shared_lot_ids"])
        [lot] = self.call("stock.lot", "read", [[lot_id], ["quality_state"]], op="quality.read")
        if lot["quality_state"] == "released":
            self.call(
                "stock.lot", "action_quality_quarantine", [[lot_id]], {"reason": "Load test"}, op="quality.quarantine"
            )
        elif lot["quality_state"] == "quarantine":
            self.call("stock.lot", "action_quality_release", [[lot_id]], op="quality.release")

    def recall_trace(self):
        lot_id = self.rng.choice(self.fixture["valuation_lot_ids"])
        [recall_id] = self.call(
            "stock.lot.recall",
            "create",
            [[{"lot_ids": [[6, 0, [lot_id]]], "reason": "Load test: mock recall", "is_mock": True}]],
            op="recall_trace.create",
        )
        self.call("stock.lot.recall", "action_trace", [[recall_id]], op="recall_trace.action_trace")
        self.fixture["recall_ids"].append(recall_id)

    def trace_read(self):
        if not self.fixture["recall_ids"]:
            return
        recall_id = self.rng.choice(self.fixture["recall_ids"])
        self.call("stock.lot.recall", "get_genealogy", [[recall_id]], op="trace_read.genealogy")
        self.call(
            "stock.lot.recall.line",
            "web_search_read",
            [[["recall_id", "=", recall_id]]],
            {
                "specification": {"lot_id": {"fields": {"display_name": {}}}, "partner_id": {}, "quantity": {}},
                "limit": 80,
            },
            op="trace_read.lines",
        )

    def _valuation_domain(self):
        return [["product_id", "in", self.fixture["valuation_product_ids"]]]

    def valuation_page(self):
        self.call(
            "stock.lot.valuation.report",
            "web_search_read",
            [self._valuation_domain()],
            {"specification": PAGE_FIELDS, "limit": 80, "offset": self.rng.randrange(0, 400, 80)},
            op="valuation_page",
        )

    def valuation_summary(self):
        self.call("stock.lot.valuation.report", "get_summary", [self._valuation_domain()], op="valuation_summary")

    def kpis(self):
        today = date.today()
        self.call("stock.lot.kpi", "get_kpis", [str(today - timedelta(days=30)), str(today)], op="kpis")

    def xlsx(self):
        category = self.rng.choice(self.fixture["category_ids"])
        [wizard_id] = self.call(
            "stock.lot.valuation.wizard", "create", [[{"categ_ids": [[6, 0, [category]]]}]], op="xlsx.wizard"
        )
        action = self.call("stock.lot.valuation.wizard", "action_export_xlsx", [[wizard_id]], op="xlsx.export")
        started = time.perf_counter()
        error = None
        response = self.session.get(f"{self.url}{action['url']}", timeout=600)
        if response.status_code != 200 or not response.content.startswith(b"PK"):
            error = f"download: HTTP {response.status_code}"
        self.record("xlsx.download", (time.perf_counter() - started) * 1000, error)


def _run_users(url, args, fixture):
    records = []
    lock = threading.Lock()

    def record(op, ms, error):
        with lock:
            records.append((op, ms, error))

    deadline = time.monotonic() + args.duration
    ops = [op for op in MIX if op in args.ops]
    weights = [MIX[op] for op in ops]
    failures = []

    def user_loop(index, login):
        try:
            user = User(url, args.db, login, fixture, args.seed * 100 + index, record)
        except Exception as exc:
            record("login", 0, f"{type(exc).__name__}: {exc}")
            return
        while time.monotonic() < deadline:
            op = user.rng.choices(ops, weights)[0]
            try:
                getattr(user, op)()
            except RpcError:
                pass  # recorded by User.call
            except Exception as exc:
                failures.append(f"{op}: {type(exc).__name__}: {exc}")

    threads = [
        threading.Thread(target=user_loop, args=(index, login), daemon=True)
        for index, login in enumerate(fixture["logins"][: args.users])
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=args.duration + 900)
    return records, time.monotonic() - started, failures


# ----------------------------------------------------------------------
# After the run
# ----------------------------------------------------------------------
# Core splits a quant when its row is locked by another transaction (stock.quant.
# _update_available_quantity: FOR NO KEY UPDATE SKIP LOCKED, else a new quant) and merges
# the pieces later (_quant_tasks, run by the scheduler): reservations are checked on the
# sums per lot and place, then, after core's merge, quant by quant.
OVER_RESERVED_QUANTS = """
    SELECT count(*) FROM stock_quant quant JOIN stock_location location ON location.id = quant.location_id
     WHERE location.usage = 'internal' AND quant.reserved_quantity > COALESCE(quant.quantity, 0) + 0.0001
"""
INVARIANTS = {
    "over_reserved_stock_by_lot_and_place": """
        SELECT count(*) FROM (
            SELECT 1 FROM stock_quant quant JOIN stock_location location ON location.id = quant.location_id
             WHERE location.usage = 'internal'
             GROUP BY quant.product_id, quant.location_id, quant.lot_id, quant.package_id, quant.owner_id
            HAVING SUM(quant.reserved_quantity) > SUM(COALESCE(quant.quantity, 0)) + 0.0001) over_reserved
    """,
    "reserved_beyond_on_hand_by_lot": """
        SELECT count(*) FROM (
            SELECT line.lot_id, line.location_id, SUM(line.quantity_product_uom) AS reserved
              FROM stock_move_line line
             WHERE line.state NOT IN ('done', 'cancel') AND line.lot_id IS NOT NULL
             GROUP BY line.lot_id, line.location_id) open_lines
          LEFT JOIN (SELECT lot_id, location_id, SUM(quantity) AS quantity
                       FROM stock_quant GROUP BY lot_id, location_id) quant
            ON quant.lot_id = open_lines.lot_id AND quant.location_id = open_lines.location_id
         WHERE open_lines.reserved > COALESCE(quant.quantity, 0) + 0.0001
    """,
    "quant_reservation_not_matching_move_lines": """
        SELECT count(*) FROM (
            SELECT quant.lot_id, quant.location_id, SUM(quant.reserved_quantity) AS reserved
              FROM stock_quant quant JOIN stock_location location ON location.id = quant.location_id
             WHERE location.usage = 'internal' AND quant.product_id = %(shared_product)s
             GROUP BY quant.lot_id, quant.location_id) quant
          FULL JOIN (SELECT lot_id, location_id, SUM(quantity_product_uom) AS reserved
                       FROM stock_move_line
                      WHERE state NOT IN ('done', 'cancel') AND product_id = %(shared_product)s
                      GROUP BY lot_id, location_id) line
            ON line.lot_id = quant.lot_id AND line.location_id = quant.location_id
         WHERE ABS(COALESCE(quant.reserved, 0) - COALESCE(line.reserved, 0)) > 0.0001
    """,
    "unreleased_lots_reserved_on_deliveries": """
        SELECT count(*) FROM stock_move_line line
          JOIN stock_lot lot ON lot.id = line.lot_id
          JOIN stock_picking picking ON picking.id = line.picking_id
          JOIN stock_picking_type type ON type.id = picking.picking_type_id
         WHERE line.state NOT IN ('done', 'cancel') AND type.code = 'outgoing'
           AND lot.quality_state IN ('blocked', 'quarantine', 'recalled')
    """,
    "unreleased_lots_delivered_during_run": """
        SELECT count(*) FROM stock_move_line line
          JOIN stock_lot lot ON lot.id = line.lot_id
         WHERE line.state = 'done' AND line.product_id = %(shared_product)s
           AND lot.quality_state = 'blocked' AND line.location_dest_id = %(customer)s
    """,
}


# read the addon's fields: not checked on the core database (--core)
ADDON_INVARIANTS = ("unreleased_lots_reserved_on_deliveries", "unreleased_lots_delivered_during_run")

RESERVATION_DETAILS = """
    SELECT quant.lot_id, quant.location_id, quant.quants, quant.quantity, quant.reserved, line.reserved, line.lines
      FROM (SELECT quant.lot_id, quant.location_id, array_agg(quant.id ORDER BY quant.id) AS quants,
                   SUM(quant.quantity) AS quantity, SUM(quant.reserved_quantity) AS reserved
              FROM stock_quant quant JOIN stock_location location ON location.id = quant.location_id
             WHERE location.usage = 'internal' AND quant.product_id = %(shared_product)s
             GROUP BY quant.lot_id, quant.location_id) quant
      FULL JOIN (SELECT lot_id, location_id, SUM(quantity_product_uom) AS reserved,
                        array_agg(id || ':' || picking_id ORDER BY id) AS lines
                   FROM stock_move_line
                  WHERE state NOT IN ('done', 'cancel') AND product_id = %(shared_product)s
                  GROUP BY lot_id, location_id) line
        ON line.lot_id = quant.lot_id AND line.location_id = quant.location_id
     WHERE ABS(COALESCE(quant.reserved, 0) - COALESCE(line.reserved, 0)) > 0.0001
        OR quant.reserved > quant.quantity + 0.0001
"""


def _check_invariants(args, fixture):
    params = {"shared_product": fixture["shared_product_id"], "customer": fixture["customer_id"]}
    found = {}
    with _connect(args.db) as connection, connection.cursor() as cursor:
        for name, query in INVARIANTS.items():
            if args.core and name in ADDON_INVARIANTS:
                continue
            cursor.execute(query, params)
            found[name] = cursor.fetchone()[0]
        cursor.execute(OVER_RESERVED_QUANTS)
        split = cursor.fetchone()[0]
        if any(found.values()):
            # what core's merge (_quant_tasks: _clean_reservations) is about to rewrite
            cursor.execute(RESERVATION_DETAILS, params)
            found["details_before_merge_info"] = [list(map(str, row)) for row in cursor.fetchall()]
    with common.odoo_env(args.db, args.config) as env:
        env["stock.quant"]._quant_tasks()  # core's merge of split quants
        env.cr.commit()
        env.cr.execute(OVER_RESERVED_QUANTS)
        found["over_reserved_quants_after_core_merge"] = env.cr.fetchone()[0]
        found["quants_reserved_beyond_quantity_before_merge_info"] = split
        if args.core:
            return found
        report = env["stock.lot.valuation.report"]
        [(total,)] = report._read_group([("product_id", "in", fixture["valuation_product_ids"])], [], ["value:sum"])
        env.cr.execute(
            SQL(
                "SELECT COALESCE(SUM(value), 0) FROM stock_valuation_layer WHERE product_id = ANY(%s)",
                fixture["valuation_product_ids"],
            )
        )
        layers = float(env.cr.fetchone()[0])
        found["valuation_total"] = round(total, 2)
        found["layers_total"] = round(layers, 2)
        found["valuation_differs_from_layers"] = int(abs(total - layers) > 0.005)
    return found


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def _summarize(records):
    by_op = defaultdict(list)
    errors = defaultdict(list)
    for op, ms, error in records:
        by_op[op].append(ms)
        if error:
            errors[op].append(error)
    rows = []
    for op in sorted(by_op):
        times = by_op[op]
        rows.append(
            {
                "call": op,
                "count": len(times),
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(_percentile(times, 0.95), 1),
                "max_ms": round(max(times), 1),
                "errors": len(errors.get(op, ())),
            }
        )
    samples = {op: sorted(set(messages))[:3] for op, messages in errors.items()}
    return rows, samples


def _load_conditions():
    with open("/proc/loadavg") as loadavg:
        one, five, fifteen = loadavg.read().split()[:3]
    return {"loadavg_1_5_15": [float(one), float(five), float(fifteen)], "cpus": os.cpu_count()}


def main(argv=None):
    args = common.parse_args(__doc__.split("\n")[0], argv, options=_options)
    args.duration = args.duration or (120 if args.scale == "full" else 30)
    args.ops = [op.strip() for op in args.ops.split(",") if op.strip()]
    unknown = set(args.ops) - set(MIX)
    if unknown or not args.ops:
        sys.exit(f"load: --ops takes operations among {', '.join(MIX)}; not {', '.join(sorted(unknown)) or 'none'}")
    if args.core and args.ops != ["reserve"]:
        sys.exit("load --core: only reservations exist without the addon; use --ops reserve")
    print(f"load: preparing {args.db} ...", flush=True)
    fixture = _prepare_core(args) if args.core else _prepare(args)
    if not args.no_replica:
        _ensure_replica(args.db)
    replica_before = None if args.no_replica else _replica_statements(args.db)
    log_path = common.STATE_DIR / f"{args.db}-load-odoo.log"
    log_path.unlink(missing_ok=True)
    print(f"load: starting Odoo ({args.workers} workers, replica: {not args.no_replica}); log {log_path}", flush=True)
    process, url = _start_server(args, log_path)
    before = _load_conditions()
    try:
        print(f"load: {args.users} users for {args.duration} s ...", flush=True)
        records, wall, failures = _run_users(url, args, fixture)
    finally:
        after = _load_conditions()
        stop_server(process)
    log = log_path.read_text(errors="replace")
    retries = defaultdict(int)
    # failures by attempt: how deep requests went into Odoo's five attempts (the 5th failed = an error)
    failed_attempts = defaultdict(int)
    for match in RETRY_LOG.finditer(log):
        retries[match.group(1)] += 1
        failed_attempts[str(MAX_TRIES - int(match.group(2)))] += 1
    failed_attempts[str(MAX_TRIES)] += len(GIVE_UP_LOG.findall(log))
    replica_calls = None if args.no_replica else _replica_statements(args.db) - replica_before
    rows, error_samples = _summarize(records)
    invariants = _check_invariants(args, fixture)
    violations = {
        name: count
        for name, count in invariants.items()
        if name not in ("valuation_total", "layers_total") and not name.endswith("_info") and count
    }
    print(f"{'call':32} {'count':>6} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} {'errors':>6}")
    for row in rows:
        print(
            f"{row['call']:32} {row['count']:>6} {row['p50_ms']:>9.1f} {row['p95_ms']:>9.1f}"
            f" {row['max_ms']:>9.1f} {row['errors']:>6}"
        )
    total_calls = sum(row["count"] for row in rows)
    total_errors = sum(row["errors"] for row in rows)
    print(f"calls {total_calls} in {wall:.0f} s ({total_calls / wall:.1f}/s), errors {total_errors}")
    misfires = log.count("retrying with a read/write cursor")
    print(f"serialization retries (Odoo log): {dict(retries) or 0}; read-only calls retried on the primary: {misfires}")
    print(f"failures by attempt (of {MAX_TRIES}): {dict(sorted(failed_attempts.items()))}")
    print(f"statements run by the replica: {replica_calls}")
    print(f"invariants: {invariants}")
    for message in failures[:5]:
        print(f"script failure: {message}")
    # load.json: the whole mix with the replica; other shapes get their own file
    name = NAME + ("_no_replica" if args.no_replica else "")
    if args.ops != list(MIX):
        name += "_" + "_".join(args.ops)
    if args.core:
        name += "_core"
    common.write_results(
        name,
        args.scale,
        rows,
        users=args.users,
        duration_s=args.duration,
        wall_s=round(wall, 1),
        workers=args.workers,
        replica=not args.no_replica,
        calls=total_calls,
        calls_per_s=round(total_calls / wall, 2),
        errors=total_errors,
        error_samples=error_samples,
        serialization_retries=dict(retries),
        failed_attempts=dict(sorted(failed_attempts.items())),
        readonly_retried_on_primary=misfires,
        replica_statements=replica_calls,
        invariants=invariants,
        violations=violations,
        load_before=before,
        load_after=after,
        conditions=CONDITIONS,
        data={"valuation_lots": VALUATION_LOTS[args.scale], "shared_lots": SHARED_LOTS},
        ops=args.ops,
        core=args.core,
        script_failures=failures[:20],
    )
    if failures or (violations and not args.core):
        # without the addon, over-reservation is what the comparison shows, not a failure of the run
        sys.exit(f"load: invariants violated {violations} or script failures {len(failures)}")


if __name__ == "__main__":
    main()
