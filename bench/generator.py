"""The one data generator of the benchmarks.

A scratch database (``lmc_bench`` by default) is copied from the template
``lmc_bench_base`` (the addon installed without demo data, kept up to date by
``scripts/bench.sh``), with its filestore. Datasets are then added to it by
named builders, one function per dataset:

- :func:`lots`: lots of a few perishable products, for the shelf-life refresh;
- :func:`quants`: one FEFO product whose lots each hold one quant in WH/Stock,
  some of them blocked, for the reservation gate.

Everything is deterministic from the seed (``random.Random(seed)``); dates are
relative to the database's *anchor*, the midnight (UTC) at which it was copied.
Master records (products, categories, operation types) are made through the
ORM; the bulk rows by one ``INSERT … SELECT … FROM unnest(<arrays>) WITH
ORDINALITY`` per table, the random values drawn in Python and passed as arrays
(subscripting a parameter array per row of a ``generate_series`` is quadratic).

Reuse: the database carries a marker (ir.config_parameter ``lmc_bench.dataset``:
template, template state, scale, seed, anchor) and each dataset its own
(``lmc_bench.dataset.<name>``: n, seed). A second run with the same scale and
seed reuses what is there; a dataset asked for with another size is deleted
and built again in place (the shelf-life refresh works on every lot of the
database, so the sizes cannot live side by side). The database is copied again
when the template changed (``bash scripts/bench.sh`` updates it when the addon
changed), when scale or seed differ, or when the anchor is over
``MAX_AGE_DAYS`` old.

Command line (normally the benchmarks call it themselves)::

    .venv/bin/python bench/generator.py [--scale small|full] [--seed N] [--db lmc_bench] lots 100000
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import common

import odoo.sql_db
from odoo.modules.registry import Registry
from odoo.tools import SQL, config

TEMPLATE = os.environ.get("LMC_BENCH_TEMPLATE", "lmc_bench_base")
MARKER = "lmc_bench.dataset"
MAX_AGE_DAYS = 30
# Lots of the `quants` dataset expire this many days after the anchor at the
# earliest: they stay "fresh" at both instants of the shelf-life benchmark and
# are never refused by the reservation gate as expired while the data is reused.
QUANT_EXPIRY_MIN_DAYS = 100


# ----------------------------------------------------------------------
# Scratch database
# ----------------------------------------------------------------------
def _admin_cursor():
    """An autocommit cursor on the ``postgres`` database (CREATE/DROP DATABASE)."""
    cr = odoo.sql_db.db_connect("postgres").cursor()
    cr._cnx.autocommit = True
    return cr


def _read_marker(db):
    """The database marker (a dict), or None when ``db`` is missing or has none."""
    with _admin_cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db])
        if not cr.fetchone():
            return None
    with odoo.sql_db.db_connect(db).cursor() as cr:
        cr.execute("SELECT value FROM ir_config_parameter WHERE key = %s", [MARKER])
        row = cr.fetchone()
    odoo.sql_db.close_db(db)
    return json.loads(row[0]) if row else None


def _template_state(template):
    """What identifies the template's content: its database oid and the addon stamp of ensure_db."""
    with _admin_cursor() as cr:
        cr.execute("SELECT oid FROM pg_database WHERE datname = %s", [template])
        row = cr.fetchone()
    if not row:
        raise SystemExit(
            f"The template database {template} does not exist: run `make bench` (or `bash scripts/bench.sh`), "
            "which builds it, or set LMC_BENCH_TEMPLATE."
        )
    stamp_file = common.STATE_DIR / f"{template}.addon-sha1"
    stamp = stamp_file.read_text().strip() if stamp_file.exists() else ""
    return f"{row[0]}:{stamp}"


def _same_template(old_state, new_state):
    """Whether two template states are the same database (oid), whatever the addon stamp."""
    return old_state.split(":")[0] == new_state.split(":")[0]


def _update_addon(db, config):
    """``odoo-bin -u lot_margin_control`` on ``db`` (the scratch copy), as ``make test`` does its database."""
    started = time.perf_counter()
    odoo_bin = Path(os.environ.get("ODOO_SRC", Path.home() / "odoo-18.0")) / "odoo-bin"
    subprocess.run(
        [
            sys.executable,
            str(odoo_bin),
            "-c",
            config,
            "-d",
            db,
            "-u",
            "lot_margin_control",
            "--stop-after-init",
            "--no-http",
            "--log-level=warn",
        ],
        check=True,
    )
    print(f"Updated lot_margin_control in {db} in {time.perf_counter() - started:.1f} s")


def _copy_template(db, template):
    """Drop ``db`` and copy it from ``template``, filestore included."""
    Registry.delete(db)
    odoo.sql_db.close_db(db)
    with _admin_cursor() as cr:
        cr.execute(SQL("DROP DATABASE IF EXISTS %s WITH (FORCE)", SQL.identifier(db)))
        for attempt in range(10):
            try:
                cr.execute(
                    SQL(
                        "CREATE DATABASE %s ENCODING 'unicode' TEMPLATE %s",
                        SQL.identifier(db),
                        SQL.identifier(template),
                    )
                )
                break
            except Exception as exc:  # psycopg2.errors.ObjectInUse: someone is connected to the template
                if "being accessed by other users" not in str(exc) or attempt == 9:
                    raise
                time.sleep(2)
    target = Path(config.filestore(db))
    shutil.rmtree(target, ignore_errors=True)
    source = Path(config.filestore(template))
    if source.is_dir():
        shutil.copytree(source, target)


def prepare_database(db, scale, seed, template=TEMPLATE, config=None, fresh=False):
    """Make sure ``db`` is a copy of ``template`` marked for ``scale`` and ``seed``; return its marker.

    Copies the template again only when the marker does not match (see the module docstring), or
    always with ``fresh`` (a benchmark that consumes its data, like the load test's deliveries).
    """
    common.init_odoo(config or common.default_config())
    state = _template_state(template)
    marker = None if fresh else _read_marker(db)
    today = datetime.now(timezone.utc).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    if marker:
        anchor = datetime.fromisoformat(marker["anchor"])
        wanted = {"template": template, "scale": scale, "seed": seed}
        if (
            all(marker.get(key) == value for key, value in wanted.items())
            and today - anchor <= timedelta(days=MAX_AGE_DAYS)
            and _same_template(marker.get("template_state", ""), state)
        ):
            if marker["template_state"] != state:
                # the same template, only the addon updated since: update the copy in place and keep
                # its datasets (a 100,000-lot dataset takes minutes to build)
                _update_addon(db, config or common.default_config())
                marker["template_state"] = state
                with odoo.sql_db.db_connect(db).cursor() as cr:
                    _set_param(cr, MARKER, marker)
                    cr.commit()
                odoo.sql_db.close_db(db)
            print(f"Reusing database {db} ({scale}, seed {seed}, anchor {anchor:%Y-%m-%d})")
            return marker
    started = time.perf_counter()
    _copy_template(db, template)
    marker = {
        "template": template,
        "template_state": state,
        "scale": scale,
        "seed": seed,
        "anchor": today.isoformat(),
    }
    with odoo.sql_db.db_connect(db).cursor() as cr:
        _set_param(cr, MARKER, marker)
        # the copy must not share the template's identity
        cr.execute("UPDATE ir_config_parameter SET value = gen_random_uuid()::text WHERE key = 'database.uuid'")
        cr.commit()
    odoo.sql_db.close_db(db)
    print(f"Copied {template} to {db} in {time.perf_counter() - started:.1f} s")
    return marker


def _set_param(cr, key, value):
    """Write an ir.config_parameter by SQL (the ORM caches them; markers are written outside it)."""
    cr.execute(
        """
        INSERT INTO ir_config_parameter (key, value, create_uid, create_date, write_uid, write_date)
        VALUES (%s, %s, 1, now() AT TIME ZONE 'UTC', 1, now() AT TIME ZONE 'UTC')
        ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, write_date = EXCLUDED.write_date
        """,
        [key, json.dumps(value, sort_keys=True)],
    )


def _get_param(cr, key):
    cr.execute("SELECT value FROM ir_config_parameter WHERE key = %s", [key])
    row = cr.fetchone()
    return json.loads(row[0]) if row else None


def anchor(env):
    """The instant the dataset's dates are relative to (naive UTC, like Odoo's datetimes)."""
    return datetime.fromisoformat(_get_param(env.cr, MARKER)["anchor"])


def _ensure(env, name, n, seed, build, drop):
    """Build dataset ``name`` with ``n`` rows unless its marker says it is there; return the build info.

    ``drop(env)`` removes a previous version of the dataset; ``build(env, n, seed)``
    inserts it and returns a JSON-able dict, stored in the marker and returned.
    """
    key = f"{MARKER}.{name}"
    marker = _get_param(env.cr, key)
    if marker and marker.get("n") == n and marker.get("seed") == seed:
        return marker["info"]
    started = time.perf_counter()
    env.cr.execute("DELETE FROM ir_config_parameter WHERE key = %s", [key])
    drop(env)
    info = build(env, n, seed)
    # the datasets write done move lines by SQL, around stock.move._action_done: their daily
    # demand is summed as a module update sums an existing database's (stock.lot.demand.day)
    env["stock.lot.demand.day"]._rebuild()
    env["stock.lot.valuation.month"]._rebuild()
    env["stock.lot.valuation.movement"]._rebuild()
    env.flush_all()
    env.invalidate_all()
    _set_param(env.cr, key, {"n": n, "seed": seed, "info": info})
    env.cr.commit()
    _compact(env.cr.dbname, ("stock_lot", "stock_quant"))
    print(f"Built dataset {name} (n={n:,}, seed {seed}) in {time.perf_counter() - started:.1f} s")
    return info


def _compact(db, tables):
    """``VACUUM (FULL, ANALYZE)`` the tables a dataset rebuilt, ``ANALYZE`` the others.

    Without it the rows of a previous, larger version of the dataset stay in the
    table as dead tuples that every sequential scan still reads (a dataset
    shrunk from 100,000 lots to 0 scanned like 100,000), and the planner would
    not know the new rows. The physical state then depends on the data only,
    not on what was built before.
    """
    common.maintain(
        db,
        [
            *(SQL("VACUUM (FULL, ANALYZE) %s", SQL.identifier(table)) for table in tables),
            # and statistics of every other table the dataset wrote (move lines, pickings, partners…),
            # as autovacuum would give them in a live database: without them the planner estimated
            # 19 move lines for 10,000 and chose nested loops
            SQL("ANALYZE"),
        ],
    )


def _minutes(days):
    return round(days * 24 * 60)


def _pick(rng, weights):
    """One key of ``weights`` (key -> weight), drawn with ``rng``."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _main_warehouse(env):
    return env["stock.warehouse"].search([("company_id", "=", env.company.id)], order="id", limit=1)


def _product(env, default_code, values):
    """The product with ``default_code``, created with ``values`` when missing (master data, ORM)."""
    product = env["product.product"].search([("default_code", "=", default_code)], limit=1)
    if not product:
        product = env["product.product"].create({"default_code": default_code, **values})
    return product


def _category(env, name, values=None):
    category = env["product.category"].search([("name", "=", name)], limit=1)
    if not category:
        category = env["product.category"].create({"name": name, **(values or {})})
    return category


def _delete_lots(env, product_ids):
    """Delete the lots of ``product_ids`` and everything the benchmarks hang on them (quants, activities)."""
    if not product_ids:
        return
    env.flush_all()
    env.cr.execute(
        SQL(
            """
            DELETE FROM mail_activity
             WHERE res_model = 'stock.lot'
               AND res_id IN (SELECT id FROM stock_lot WHERE product_id = ANY(%(products)s))
            """,
            products=product_ids,
        )
    )
    env.cr.execute(SQL("DELETE FROM stock_quant WHERE product_id = ANY(%s)", product_ids))
    env.cr.execute(SQL("DELETE FROM stock_lot WHERE product_id = ANY(%s)", product_ids))
    env.invalidate_all()


# ----------------------------------------------------------------------
# Dataset: lots
# ----------------------------------------------------------------------
LOTS_PRODUCTS = 5
LOTS_QUALITY = {"released": 90, "quarantine": 7, "blocked": 3}


def _lots_products(env):
    """A few perishable products; two near-expiry thresholds so that lots without alert date use both rules."""
    category = _category(env, "LMC Bench Perishables", {"lot_near_expiry_days": 14})
    products = env["product.product"]
    for index in range(1, LOTS_PRODUCTS + 1):
        products |= _product(
            env,
            f"LMCB-LOTS-{index}",
            {
                "name": f"LMC Bench Perishable {index}",
                "is_storable": True,
                "tracking": "lot",
                "categ_id": category.id,
                "use_expiration_date": True,
                "expiration_time": 365,
                # product 1 has its own threshold, the others use the category's
                "lot_near_expiry_days": 21 if index == 1 else 0,
            },
        )
    return products


def _drop_lots(env):
    products = env["product.product"].search([("default_code", "=like", "LMCB-LOTS-%")])
    _delete_lots(env, products.ids)


def _build_lots(env, n, seed):
    rng = random.Random(seed)
    products = _lots_products(env)
    if not n:
        return {"product_ids": products.ids}
    product_ids, expiry, alert, production, quality = [], [], [], [], []
    for _index in range(n):
        product_ids.append(rng.choice(products.ids))
        expires = rng.uniform(-60, 400)
        expiry.append(_minutes(expires))
        alert.append(_minutes(expires - rng.uniform(10, 30)) if rng.random() < 0.8 else None)
        production.append(_minutes(expires - rng.uniform(180, 720)))
        quality.append(_pick(rng, LOTS_QUALITY))
    env.cr.execute(
        SQL(
            """
            INSERT INTO stock_lot (
                name, product_id, product_uom_id, company_id,
                create_uid, create_date, write_uid, write_date,
                expiration_date, alert_date, production_date, quality_state,
                product_expiry_reminded, gs1_scanned)
            SELECT %(prefix)s || lpad(src.g::text, 7, '0'),
                   product.id, tmpl.uom_id, %(company)s,
                   %(uid)s, %(anchor)s, %(uid)s, %(anchor)s,
                   %(anchor)s + make_interval(mins => src.expiry),
                   %(anchor)s + make_interval(mins => src.alert),
                   %(anchor)s + make_interval(mins => src.production),
                   src.quality,
                   FALSE, FALSE
              FROM unnest(%(products)s::int[], %(expiry)s::int[], %(alert)s::int[], %(production)s::int[],
                          %(quality)s::varchar[])
                   WITH ORDINALITY AS src(product_id, expiry, alert, production, quality, g)
              JOIN product_product product ON product.id = src.product_id
              JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
             ORDER BY src.g
            """,
            prefix=f"B{seed}-L",
            company=env.company.id,
            uid=env.uid,
            anchor=anchor(env),
            expiry=expiry,
            alert=alert,
            production=production,
            quality=quality,
            products=product_ids,
        )
    )
    return {"product_ids": products.ids}


def lots(env, n, seed):
    """``n`` lots of a few perishable products (lot-tracked, with expiration dates).

    Expiration dates are spread from 60 days before to 400 days after the
    anchor; ~80% of the lots have an alert date 10-30 days before expiry, the
    others rely on the near-expiry threshold (21 days on one product, the
    category's 14 on the others); production dates 180-720 days before expiry;
    quality 90% released, 7% quarantine, 3% blocked. ``shelf_life_state`` is
    left empty (the refresh computes it). No stock. Returns ``{"product_ids"}``.
    """
    return _ensure(env, "lots", n, seed, _build_lots, _drop_lots)


# ----------------------------------------------------------------------
# Dataset: quants
# ----------------------------------------------------------------------
QUANTS_BLOCKED_RATIO = 0.10
QUANT_QUANTITY = 10


def _fefo_product(env):
    category = _category(
        env,
        "LMC Bench FEFO",
        {"removal_strategy_id": env.ref("product_expiry.removal_fefo").id},
    )
    return _product(
        env,
        "LMCB-FEFO",
        {
            "name": "LMC Bench FEFO Yogurt",
            "is_storable": True,
            "tracking": "lot",
            "categ_id": category.id,
            "use_expiration_date": True,
            "expiration_time": 365,
            "removal_time": 5,
        },
    )


def _manual_delivery_type(env, warehouse):
    """A delivery operation type that does not reserve at confirmation: the benchmark reserves itself."""
    picking_type = env["stock.picking.type"].search([("sequence_code", "=", "LMCB-OUT")], limit=1)
    if not picking_type:
        picking_type = warehouse.out_type_id.copy(
            {
                "name": "LMC Bench Delivery",
                "sequence_code": "LMCB-OUT",
                "reservation_method": "manual",
            }
        )
    return picking_type


def _drop_quants(env):
    products = env["product.product"].search([("default_code", "=", "LMCB-FEFO")])
    _delete_lots(env, products.ids)


def _build_quants(env, n, seed):
    rng = random.Random(seed)
    product = _fefo_product(env)
    warehouse = _main_warehouse(env)
    stock = warehouse.lot_stock_id
    picking_type = _manual_delivery_type(env, warehouse)
    expiry, in_date, blocked = [], [], []
    for _index in range(n):
        expiry.append(_minutes(rng.uniform(QUANT_EXPIRY_MIN_DAYS, QUANT_EXPIRY_MIN_DAYS + 400)))
        in_date.append(_minutes(-rng.uniform(1, 90)))
        blocked.append(rng.random() < QUANTS_BLOCKED_RATIO)
    env.cr.execute(
        SQL(
            """
            WITH src AS (
                SELECT * FROM unnest(%(expiry)s::int[], %(in_date)s::int[], %(blocked)s::bool[])
                       WITH ORDINALITY AS src(expiry, in_date, blocked, g)
            ), new_lots AS (
                INSERT INTO stock_lot (
                    name, product_id, product_uom_id, company_id, location_id,
                    create_uid, create_date, write_uid, write_date,
                    expiration_date, removal_date, production_date,
                    quality_state, quality_state_reason, shelf_life_state,
                    product_expiry_reminded, gs1_scanned)
                SELECT %(prefix)s || lpad(src.g::text, 7, '0'), %(product)s, %(uom)s, %(company)s, %(stock)s,
                       %(uid)s, %(anchor)s, %(uid)s, %(anchor)s,
                       %(anchor)s + make_interval(mins => src.expiry),
                       %(anchor)s + make_interval(mins => src.expiry) - interval '5 days',
                       %(anchor)s + make_interval(mins => src.expiry) - interval '365 days',
                       CASE WHEN src.blocked THEN 'blocked' ELSE 'released' END,
                       CASE WHEN src.blocked THEN 'Benchmark: blocked lot' END,
                       -- no alert date, no threshold, expiry well after the benchmark instants
                       'fresh',
                       FALSE, FALSE
                  FROM src
                 ORDER BY src.g
                RETURNING id, name, expiration_date, removal_date, production_date, quality_state
            )
            INSERT INTO stock_quant (
                product_id, company_id, location_id, lot_id, quantity, reserved_quantity, in_date,
                expiration_date, removal_date, production_date, lot_quality_state,
                create_uid, create_date, write_uid, write_date)
            SELECT %(product)s, %(company)s, %(stock)s, new_lots.id, %(quantity)s, 0,
                   %(anchor)s + make_interval(mins => src.in_date),
                   new_lots.expiration_date, new_lots.removal_date, new_lots.production_date,
                   new_lots.quality_state,
                   %(uid)s, %(anchor)s, %(uid)s, %(anchor)s
              FROM new_lots
              JOIN src ON new_lots.name = %(prefix)s || lpad(src.g::text, 7, '0')
             ORDER BY new_lots.id
            """,
            prefix=f"B{seed}-F",
            product=product.id,
            uom=product.uom_id.id,
            company=env.company.id,
            stock=stock.id,
            uid=env.uid,
            anchor=anchor(env),
            expiry=expiry,
            in_date=in_date,
            blocked=blocked,
            quantity=QUANT_QUANTITY,
        )
    )
    return {
        "product_id": product.id,
        "location_id": stock.id,
        "picking_type_id": picking_type.id,
        "blocked": sum(blocked),
        "quantity": QUANT_QUANTITY,
    }


def quants(env, n, seed):
    """One FEFO product with ``n`` lots, each with one quant of 10 units in WH/Stock.

    The product's category removes by FEFO (product_expiry); lots expire 100 to
    500 days after the anchor (removal date 5 days earlier, copied on the quants
    like product_expiry does), quants entered 1-90 days before it; ~10% of the
    lots are blocked. Also a delivery operation type with manual reservation.
    Returns ``{"product_id", "location_id", "picking_type_id", "blocked", "quantity"}``.
    """
    return _ensure(env, "quants", n, seed, _build_quants, _drop_quants)


# ----------------------------------------------------------------------
# Dataset: markdown_rules
# ----------------------------------------------------------------------
MARKDOWN_RULE_SCOPES = {"product": 40, "category": 30, "all": 30}
MARKDOWN_RULE_TRIGGERS = {"remaining_days": 60, "remaining_ratio": 40}


def _drop_markdown_rules(env):
    env.flush_all()
    env.cr.execute("UPDATE stock_lot SET markdown_rule_id = NULL, markdown_discount = 0, markdown_price = 0")
    env.cr.execute("DELETE FROM stock_lot_markdown_rule WHERE name->>'en_US' LIKE %s", ["LMCB-MD-%"])
    env.invalidate_all()


def _build_markdown_rules(env, n, seed):
    rng = random.Random(seed)
    products = _lots_products(env)
    category = _category(env, "LMC Bench Perishables")
    # sales prices by SQL: through the ORM they would recompute the markdown price of every lot
    env.cr.execute(
        SQL(
            """
            UPDATE product_template SET list_price = 10 + mod(product_template.id, 7)
             WHERE id IN (SELECT product_tmpl_id FROM product_product WHERE id = ANY(%s))
            """,
            products.ids,
        )
    )
    rules = []
    for index in range(n):
        scope = _pick(rng, MARKDOWN_RULE_SCOPES)
        rules.append(
            {
                "name": f"LMCB-MD-{index:03d}",
                "sequence": rng.randint(1, 100),
                "trigger": _pick(rng, MARKDOWN_RULE_TRIGGERS),
                "threshold_days": rng.randint(1, 30),
                "threshold_ratio": round(rng.uniform(0.02, 0.3), 4),
                "discount": round(rng.uniform(5, 60), 2),
                "product_ids": rng.sample(products.ids, rng.randint(1, 2)) if scope == "product" else [],
                "categ_ids": [category.id] if scope == "category" else [],
            }
        )
    env.cr.execute(
        SQL(
            """
            INSERT INTO stock_lot_markdown_rule (
                name, sequence, company_id, trigger, threshold_days, threshold_ratio, discount, active,
                create_uid, create_date, write_uid, write_date)
            SELECT jsonb_build_object('en_US', src.name), src.sequence, %(company)s, src.trigger,
                   src.threshold_days, src.threshold_ratio, src.discount, TRUE,
                   %(uid)s, %(anchor)s, %(uid)s, %(anchor)s
              FROM unnest(%(names)s::varchar[], %(sequences)s::int[], %(triggers)s::varchar[], %(days)s::int[],
                          %(ratios)s::numeric[], %(discounts)s::numeric[])
                   AS src(name, sequence, trigger, threshold_days, threshold_ratio, discount)
            RETURNING id, name->>'en_US'
            """,
            company=env.company.id,
            uid=env.uid,
            anchor=anchor(env),
            names=[rule["name"] for rule in rules],
            sequences=[rule["sequence"] for rule in rules],
            triggers=[rule["trigger"] for rule in rules],
            days=[rule["threshold_days"] for rule in rules],
            ratios=[rule["threshold_ratio"] for rule in rules],
            discounts=[rule["discount"] for rule in rules],
        )
    )
    rule_ids = {name: rule_id for rule_id, name in env.cr.fetchall()}
    product_rows = [(rule_ids[rule["name"]], product_id) for rule in rules for product_id in rule["product_ids"]]
    category_rows = [(rule_ids[rule["name"]], categ_id) for rule in rules for categ_id in rule["categ_ids"]]
    if product_rows:
        env.cr.execute(
            SQL(
                """
                INSERT INTO stock_lot_markdown_rule_product_rel (rule_id, product_id)
                SELECT * FROM unnest(%s::int[], %s::int[])
                """,
                [row[0] for row in product_rows],
                [row[1] for row in product_rows],
            )
        )
    if category_rows:
        env.cr.execute(
            SQL(
                """
                INSERT INTO stock_lot_markdown_rule_category_rel (rule_id, category_id)
                SELECT * FROM unnest(%s::int[], %s::int[])
                """,
                [row[0] for row in category_rows],
                [row[1] for row in category_rows],
            )
        )
    env.invalidate_all()
    return {"rule_ids": sorted(rule_ids.values()), "product_ids": products.ids, "category_id": category.id}


def markdown_rules(env, n, seed):
    """``n`` active markdown rules on the products of the ``lots`` dataset, inserted by SQL.

    Scopes: 40% one or two of the lots products, 30% their category, 30% all
    products; triggers: 60% days left (1-30), 40% shelf life left (0.02-0.30);
    discounts 5-60%, sequences 1-100 (ties broken by id). Also gives those
    products sales prices of 10-16. The lots are left as they are (no markdown):
    the benchmark's first refresh applies the rules. Returns ``{"rule_ids",
    "product_ids", "category_id"}``.
    """
    return _ensure(env, "markdown_rules", n, seed, _build_markdown_rules, _drop_markdown_rules)


# ----------------------------------------------------------------------
# Dataset: expiry_risk
# ----------------------------------------------------------------------
RISK_PRODUCTS = 20
RISK_LINES_PER_LOT = 10
RISK_RETURN_RATIO = 0.1
RISK_HISTORY_DAYS = 180


def _risk_products(env):
    return env["product.product"].browse(
        [
            _product(
                env,
                f"LMCB-RISK-{index}",
                {
                    "name": f"LMC Bench Risk {index}",
                    "is_storable": True,
                    "tracking": "lot",
                    "use_expiration_date": True,
                    "expiration_time": 120,
                    "standard_price": 2.5,
                },
            ).id
            for index in range(1, RISK_PRODUCTS + 1)
        ]
    )


def _drop_expiry_risk(env):
    products = env["product.product"].search([("default_code", "=like", "LMCB-RISK-%")])
    if products:
        env.cr.execute(SQL("DELETE FROM stock_move_line WHERE product_id = ANY(%s)", products.ids))
    _delete_lots(env, products.ids)


def _build_expiry_risk(env, n, seed):
    rng = random.Random(seed)
    products = _risk_products(env)
    warehouse = _main_warehouse(env)
    stock = warehouse.lot_stock_id
    customers = env.ref("stock.stock_location_customers")
    lot_products, expiry, removal, quality, quantity = [], [], [], [], []
    for _index in range(n):
        lot_products.append(rng.choice(products.ids))
        expires = rng.uniform(-10, 200)
        expiry.append(_minutes(expires))
        removal.append(_minutes(expires - 3) if rng.random() < 0.5 else None)
        quality.append(_pick(rng, LOTS_QUALITY))
        quantity.append(rng.randint(1, 60))
    env.cr.execute(
        SQL(
            """
            WITH src AS (
                SELECT * FROM unnest(%(products)s::int[], %(expiry)s::int[], %(removal)s::int[],
                                     %(quality)s::varchar[], %(quantity)s::int[])
                       WITH ORDINALITY AS src(product_id, expiry, removal, quality, quantity, g)
            ), new_lots AS (
                INSERT INTO stock_lot (
                    name, product_id, product_uom_id, company_id,
                    create_uid, create_date, write_uid, write_date,
                    expiration_date, removal_date, quality_state, product_expiry_reminded, gs1_scanned)
                SELECT %(prefix)s || lpad(src.g::text, 7, '0'), src.product_id, tmpl.uom_id, %(company)s,
                       %(uid)s, %(anchor)s, %(uid)s, %(anchor)s,
                       %(anchor)s + make_interval(mins => src.expiry),
                       %(anchor)s + make_interval(mins => src.removal),
                       src.quality, FALSE, FALSE
                  FROM src
                  JOIN product_product product ON product.id = src.product_id
                  JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
                 ORDER BY src.g
                RETURNING id, name, product_id
            )
            INSERT INTO stock_quant (product_id, company_id, location_id, lot_id, quantity, reserved_quantity,
                                     in_date, create_uid, create_date, write_uid, write_date)
            SELECT new_lots.product_id, %(company)s, %(stock)s, new_lots.id, src.quantity, 0,
                   %(anchor)s, %(uid)s, %(anchor)s, %(uid)s, %(anchor)s
              FROM new_lots
              JOIN src ON new_lots.name = %(prefix)s || lpad(src.g::text, 7, '0')
            """,
            prefix=f"B{seed}-R",
            company=env.company.id,
            stock=stock.id,
            uid=env.uid,
            anchor=anchor(env),
            products=lot_products,
            expiry=expiry,
            removal=removal,
            quality=quality,
            quantity=quantity,
        )
    )
    line_products, line_dates, line_returns, line_quantities = [], [], [], []
    for _index in range(n * RISK_LINES_PER_LOT):
        line_products.append(rng.choice(products.ids))
        line_dates.append(_minutes(-rng.uniform(0, RISK_HISTORY_DAYS)))
        line_returns.append(rng.random() < RISK_RETURN_RATIO)
        line_quantities.append(rng.randint(1, 5))
    env.cr.execute(
        SQL(
            """
            INSERT INTO stock_move_line (
                product_id, product_uom_id, company_id, location_id, location_dest_id, date, state,
                quantity, quantity_product_uom, picked, create_uid, create_date, write_uid, write_date)
            SELECT src.product_id, tmpl.uom_id, %(company)s,
                   CASE WHEN src.is_return THEN %(customers)s ELSE %(stock)s END,
                   CASE WHEN src.is_return THEN %(stock)s ELSE %(customers)s END,
                   %(anchor)s + make_interval(mins => src.date), 'done',
                   src.quantity, src.quantity, TRUE, %(uid)s, %(anchor)s, %(uid)s, %(anchor)s
              FROM unnest(%(products)s::int[], %(dates)s::int[], %(returns)s::bool[], %(quantities)s::int[])
                   AS src(product_id, date, is_return, quantity)
              JOIN product_product product ON product.id = src.product_id
              JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
            """,
            company=env.company.id,
            stock=stock.id,
            customers=customers.id,
            uid=env.uid,
            anchor=anchor(env),
            products=line_products,
            dates=line_dates,
            returns=line_returns,
            quantities=line_quantities,
        )
    )
    return {"product_ids": products.ids, "move_lines": len(line_products)}


def expiry_risk(env, n, seed):
    """``n`` lots of 20 perishable products, each with one quant (1-60 units) in WH/Stock, and
    ``10 n`` done move lines of those products (90% deliveries from WH/Stock to customers, 10%
    customer returns; 1-5 units; spread over the 180 days before the anchor).

    Lots expire from 10 days before to 200 days after the anchor, half with a removal date 3 days
    earlier; quality 90% released, 7% quarantine, 3% blocked.
    Returns ``{"product_ids", "move_lines"}``.
    """
    return _ensure(env, "expiry_risk", n, seed, _build_expiry_risk, _drop_expiry_risk)


# ----------------------------------------------------------------------
# Dataset: valuation
# ----------------------------------------------------------------------
# (default code, costing method, valued by lot)
VALUATION_PRODUCTS = [
    ("LMCB-VAL-FIFO-LOT", "fifo", True),
    ("LMCB-VAL-AVCO-LOT", "average", True),
    ("LMCB-VAL-FIFO", "fifo", False),
    ("LMCB-VAL-AVCO", "average", False),
    ("LMCB-VAL-STD", "standard", False),
]
VALUATION_DELIVERIES_PER_LOT = 9  # with the receipt: 10 moves, move lines and layers per lot
VALUATION_RECEIPT_QTY = 100
VALUATION_QUALITY = {"released": 90, "quarantine": 5, "blocked": 3, "recalled": 2}


def _valuation_master_data(env):
    """The products (one per costing method, by lot or not) and a second internal location."""
    products = env["product.product"]
    for code, cost_method, lot_valuated in VALUATION_PRODUCTS:
        category = _category(env, f"LMC Bench Valuation {cost_method}", {"property_cost_method": cost_method})
        products |= _product(
            env,
            code,
            {
                "name": f"LMC Bench Valued {code[9:]}",
                "is_storable": True,
                "tracking": "lot",
                "categ_id": category.id,
                "use_expiration_date": True,
                "expiration_time": 365,
                "lot_valuated": lot_valuated,
                "standard_price": 10.0,
            },
        )
    stock = _main_warehouse(env).lot_stock_id
    shelf = env["stock.location"].search([("name", "=", "LMCB Shelf"), ("location_id", "=", stock.id)], limit=1)
    if not shelf:
        shelf = env["stock.location"].create({"name": "LMCB Shelf", "usage": "internal", "location_id": stock.id})
    return products, stock, shelf


def _drop_valuation(env):
    products = env["product.product"].search([("default_code", "=like", "LMCB-VAL-%")])
    if not products:
        return
    # the overview's events hang on these lots and moves: they go first, with their marker
    _drop_kpis(env)
    env.cr.execute("DELETE FROM ir_config_parameter WHERE key = %s", [f"{MARKER}.kpis"])
    env.flush_all()
    for table in ("stock_valuation_layer", "stock_move_line", "stock_move"):
        env.cr.execute(SQL("DELETE FROM %s WHERE product_id = ANY(%s)", SQL.identifier(table), products.ids))
    _delete_lots(env, products.ids)


def _reserve_ids(env, table, count):
    """The first of ``count`` consecutive ids taken from ``table``'s sequence (bulk rows get explicit ids)."""
    sequence = f"{table}_id_seq"
    env.cr.execute(SQL("SELECT setval(%s, nextval(%s) + %s - 1) - %s + 1", sequence, sequence, count, count))
    return env.cr.fetchone()[0]


def _build_valuation(env, n, seed):
    rng = random.Random(seed)
    products, stock, shelf = _valuation_master_data(env)
    warehouse = _main_warehouse(env)
    lot_products, lot_locations, costs, expiry, quality, markdown, receipt_at = [], [], [], [], [], [], []
    move_lots, move_at, move_qty = [], [], []
    for g in range(1, n + 1):
        product = products[g % len(products)]
        lot_products.append(product.id)
        lot_locations.append(stock.id if rng.random() < 0.7 else shelf.id)
        costs.append(10.0 if product.default_code == "LMCB-VAL-STD" else round(rng.uniform(2, 20), 2))
        received = -rng.uniform(30, 400)
        receipt_at.append(_minutes(received))
        expiry.append(_minutes(received + rng.uniform(60, 500)))
        quality.append(_pick(rng, VALUATION_QUALITY))
        markdown.append(rng.choice((10, 20, 30)) if rng.random() < 0.1 else 0)
        move_lots.append(g)
        move_at.append(_minutes(received))
        move_qty.append(VALUATION_RECEIPT_QTY)
        for _delivery in range(VALUATION_DELIVERIES_PER_LOT):
            move_lots.append(g)
            move_at.append(_minutes(received + rng.uniform(0, -received)))
            move_qty.append(-rng.randint(1, 8))
    moves = len(move_lots)
    lot_base = _reserve_ids(env, "stock_lot", n)
    move_base = _reserve_ids(env, "stock_move", moves)
    line_base = _reserve_ids(env, "stock_move_line", moves)
    layer_base = _reserve_ids(env, "stock_valuation_layer", moves)
    quant_base = _reserve_ids(env, "stock_quant", n)
    params = {
        "prefix": f"B{seed}-V",
        "company": env.company.id,
        "uid": env.uid,
        "anchor": anchor(env),
        "lot_base": lot_base,
        "move_base": move_base,
        "line_base": line_base,
        "layer_base": layer_base,
        "quant_base": quant_base,
        "supplier": env.ref("stock.stock_location_suppliers").id,
        "customer": env.ref("stock.stock_location_customers").id,
        "in_type": warehouse.in_type_id.id,
        "out_type": warehouse.out_type_id.id,
    }
    env.cr.execute("DROP TABLE IF EXISTS lmcb_valuation_lot, lmcb_valuation_move")
    env.cr.execute(
        SQL(
            """
            CREATE TEMP TABLE lmcb_valuation_lot ON COMMIT DROP AS
            SELECT src.*, tmpl.uom_id, tmpl.lot_valuated
              FROM unnest(%(products)s::int[], %(locations)s::int[], %(costs)s::numeric[], %(expiry)s::int[],
                          %(quality)s::varchar[], %(markdown)s::numeric[], %(received)s::int[])
                   WITH ORDINALITY AS src(product_id, location_id, cost, expiry, quality, markdown, received, g)
              JOIN product_product product ON product.id = src.product_id
              JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
            """,
            products=lot_products,
            locations=lot_locations,
            costs=costs,
            expiry=expiry,
            quality=quality,
            markdown=markdown,
            received=receipt_at,
        )
    )
    env.cr.execute(
        SQL(
            """
            CREATE TEMP TABLE lmcb_valuation_move ON COMMIT DROP AS
            SELECT src.*, SUM(src.qty) OVER (PARTITION BY src.lot_g) AS lot_remaining
              FROM unnest(%(lots)s::int[], %(at)s::int[], %(qty)s::int[]) WITH ORDINALITY AS src(lot_g, at, qty, g)
            """,
            lots=move_lots,
            at=move_at,
            qty=move_qty,
        )
    )
    env.cr.execute(
        SQL(
            """
            INSERT INTO stock_lot (
                id, name, product_id, product_uom_id, company_id,
                create_uid, create_date, write_uid, write_date,
                expiration_date, alert_date, quality_state, shelf_life_state, markdown_discount,
                product_expiry_reminded, gs1_scanned)
            SELECT %(lot_base)s + lot.g - 1, %(prefix)s || lpad(lot.g::text, 7, '0'), lot.product_id, lot.uom_id,
                   %(company)s, %(uid)s, %(anchor)s, %(uid)s, %(anchor)s,
                   %(anchor)s + make_interval(mins => lot.expiry),
                   %(anchor)s + make_interval(mins => lot.expiry) - interval '14 days',
                   lot.quality,
                   CASE WHEN lot.expiry <= 0 THEN 'expired'
                        WHEN lot.expiry <= 14 * 1440 THEN 'near_expiry' ELSE 'fresh' END,
                   lot.markdown, FALSE, FALSE
              FROM lmcb_valuation_lot lot
             ORDER BY lot.g
            """,
            **params,
        )
    )
    env.cr.execute(
        SQL(
            """
            INSERT INTO stock_move (
                id, name, company_id, product_id, product_uom, location_id, location_dest_id, picking_type_id,
                procure_method, product_uom_qty, product_qty, quantity, date, state, price_unit, reference, picked,
                create_uid, create_date, write_uid, write_date)
            SELECT %(move_base)s + move.g - 1, 'Benchmark valuation', %(company)s, lot.product_id, lot.uom_id,
                   CASE WHEN move.qty > 0 THEN %(supplier)s ELSE lot.location_id END,
                   CASE WHEN move.qty > 0 THEN lot.location_id ELSE %(customer)s END,
                   CASE WHEN move.qty > 0 THEN %(in_type)s ELSE %(out_type)s END,
                   'make_to_stock', ABS(move.qty), ABS(move.qty), ABS(move.qty),
                   %(anchor)s + make_interval(mins => move.at), 'done', lot.cost,
                   %(prefix)s || 'M' || move.g, TRUE,
                   %(uid)s, %(anchor)s + make_interval(mins => move.at),
                   %(uid)s, %(anchor)s + make_interval(mins => move.at)
              FROM lmcb_valuation_move move
              JOIN lmcb_valuation_lot lot ON lot.g = move.lot_g
             ORDER BY move.g
            """,
            **params,
        )
    )
    env.cr.execute(
        SQL(
            """
            INSERT INTO stock_move_line (
                id, move_id, company_id, product_id, product_uom_id, lot_id, location_id, location_dest_id,
                quantity, quantity_product_uom, date, state, picked, reference,
                create_uid, create_date, write_uid, write_date)
            SELECT %(line_base)s + move.g - 1, %(move_base)s + move.g - 1, %(company)s, lot.product_id, lot.uom_id,
                   %(lot_base)s + lot.g - 1,
                   CASE WHEN move.qty > 0 THEN %(supplier)s ELSE lot.location_id END,
                   CASE WHEN move.qty > 0 THEN lot.location_id ELSE %(customer)s END,
                   ABS(move.qty), ABS(move.qty), %(anchor)s + make_interval(mins => move.at), 'done', TRUE,
                   %(prefix)s || 'M' || move.g,
                   %(uid)s, %(anchor)s + make_interval(mins => move.at),
                   %(uid)s, %(anchor)s + make_interval(mins => move.at)
              FROM lmcb_valuation_move move
              JOIN lmcb_valuation_lot lot ON lot.g = move.lot_g
             ORDER BY move.g
            """,
            **params,
        )
    )
    env.cr.execute(
        SQL(
            """
            INSERT INTO stock_valuation_layer (
                id, company_id, product_id, stock_move_id, lot_id, quantity, unit_cost, value,
                remaining_qty, remaining_value, description,
                create_uid, create_date, write_uid, write_date)
            SELECT %(layer_base)s + move.g - 1, %(company)s, lot.product_id, %(move_base)s + move.g - 1,
                   CASE WHEN lot.lot_valuated THEN %(lot_base)s + lot.g - 1 END,
                   move.qty, lot.cost, move.qty * lot.cost,
                   CASE WHEN move.qty > 0 THEN move.lot_remaining ELSE 0 END,
                   CASE WHEN move.qty > 0 THEN move.lot_remaining * lot.cost ELSE 0 END,
                   %(prefix)s || 'M' || move.g,
                   %(uid)s, %(anchor)s + make_interval(mins => move.at),
                   %(uid)s, %(anchor)s + make_interval(mins => move.at)
              FROM lmcb_valuation_move move
              JOIN lmcb_valuation_lot lot ON lot.g = move.lot_g
             ORDER BY move.g
            """,
            **params,
        )
    )
    env.cr.execute(
        SQL(
            """
            INSERT INTO stock_quant (
                id, product_id, company_id, location_id, lot_id, quantity, reserved_quantity, in_date,
                create_uid, create_date, write_uid, write_date)
            SELECT %(quant_base)s + lot.g - 1, lot.product_id, %(company)s, lot.location_id, %(lot_base)s + lot.g - 1,
                   remaining.quantity, 0, %(anchor)s + make_interval(mins => lot.received),
                   %(uid)s, %(anchor)s, %(uid)s, %(anchor)s
              FROM lmcb_valuation_lot lot
              JOIN (SELECT lot_g, SUM(qty) AS quantity FROM lmcb_valuation_move GROUP BY lot_g) remaining
                ON remaining.lot_g = lot.g
             ORDER BY lot.g
            """,
            **params,
        )
    )
    env.cr.execute("DROP TABLE lmcb_valuation_lot, lmcb_valuation_move")
    return {
        "product_ids": products.ids,
        "lot_ids": [lot_base, lot_base + n - 1],
        "layers": moves,
        "location_ids": [stock.id, shelf.id],
    }


def valuation(env, n, seed):
    """``n`` lots in stock with ten valuation layers each, for the valuation by lot.

    Five lot-tracked products, one per costing method, valued by lot (FIFO,
    AVCO) or by product (FIFO, AVCO, standard). Each lot: one receipt of 100
    units at its own cost (2-20, 10 for standard) 30-400 days before the anchor
    into WH/Stock (70%) or its child location LMCB Shelf, then nine deliveries
    of 1-8 units between the receipt and the anchor: one done stock move, move
    line and valuation layer each (``create_date`` = the move's date), and the
    quant of what remains. Expiry 60-500 days after receipt (some lots have
    expired), alert date 14 days before, quality 90% released / 5% quarantine
    / 3% blocked / 2% recalled, 10% of the lots marked down 10-30%. Returns
    ``{"product_ids", "lot_ids": [first, last], "layers", "location_ids"}``.
    """
    return _ensure(env, "valuation", n, seed, _build_valuation, _drop_valuation)


# --- the overview's events on the valuation dataset ---------------------------------------------

KPI_RECALL_PREFIX = "LMCB/RECALL/"
KPI_FEFO_EVERY_NONCOMPLIANT = 33  # about 3% of the checked lines left an earlier lot on the shelf
KPI_SCRAP_EVERY = 100  # 1% of the deliveries are scraps instead (shrinkage)
KPI_COUNTS_PER_LOT = 0.2
KPI_RECALLS_PER_LOT = 0.002


def _valuation_delivery_filter(env, info):
    """SQL of the dataset's delivery move lines (alias ``line``) and their moves."""
    return SQL(
        "line.product_id = ANY(%s) AND line.location_id = ANY(%s) AND line.reference LIKE %s",
        info["product_ids"],
        info["location_ids"],
        "B%-V%",
    )


def _drop_kpis(env):
    env.flush_all()
    scrap = env["stock.location"].search([("scrap_location", "=", True)], order="id", limit=1)
    customer = env.ref("stock.stock_location_customers")
    pattern = "B%-V%"
    env.cr.execute(
        "UPDATE stock_move_line SET fefo_checked = NULL, fefo_compliant = NULL "
        "WHERE fefo_checked AND reference LIKE %s",
        [pattern],
    )
    for table in ("stock_move", "stock_move_line"):
        env.cr.execute(
            SQL(
                "UPDATE %s SET location_dest_id = %s WHERE location_dest_id = %s AND reference LIKE %s",
                SQL.identifier(table),
                customer.id,
                scrap.id,
                pattern,
            )
        )
    env.cr.execute("DELETE FROM stock_lot_recall WHERE name LIKE %s", [KPI_RECALL_PREFIX + "%"])
    env.cr.execute(
        "DELETE FROM stock_lot_count WHERE lot_id IN (SELECT id FROM stock_lot WHERE name LIKE %s)", [pattern]
    )
    env.cr.execute("UPDATE stock_lot SET gs1_scanned = FALSE WHERE gs1_scanned AND name LIKE %s", [pattern])
    env.invalidate_all()


def _build_kpis(env, n, seed):
    info = valuation(env, n, seed)
    rng = random.Random(seed)
    start = anchor(env)
    first_lot, last_lot = info["lot_ids"]
    scrap = env["stock.location"].search([("scrap_location", "=", True)], order="id", limit=1)
    customer = env.ref("stock.stock_location_customers")
    # n of the deliveries were checked for FEFO at validation, about 3% not compliant
    env.cr.execute(
        SQL(
            """
            UPDATE stock_move_line line SET fefo_checked = TRUE, fefo_compliant = MOD(line.id, %(every)s) <> 0
             WHERE line.id IN (SELECT line.id FROM stock_move_line line
                                WHERE %(deliveries)s AND line.location_dest_id = %(customer)s
                                ORDER BY line.id LIMIT %(n)s)
            """,
            every=KPI_FEFO_EVERY_NONCOMPLIANT,
            deliveries=_valuation_delivery_filter(env, info),
            customer=customer.id,
            n=n,
        )
    )
    # 1% of the deliveries went to scrap instead (lot-tracked losses: shrinkage)
    env.cr.execute(
        SQL(
            """
            WITH scrapped AS (
                UPDATE stock_move_line line SET location_dest_id = %(scrap)s
                 WHERE %(deliveries)s AND line.location_dest_id = %(customer)s
                   AND NOT COALESCE(line.fefo_checked, FALSE) AND MOD(line.id, %(every)s) = 1
                RETURNING line.move_id
            )
            UPDATE stock_move move SET location_dest_id = %(scrap)s FROM scrapped WHERE move.id = scrapped.move_id
            """,
            scrap=scrap.id,
            customer=customer.id,
            deliveries=_valuation_delivery_filter(env, info),
            every=KPI_SCRAP_EVERY,
        )
    )
    # about 70% of the lots received by GS1 scan
    env.cr.execute(
        SQL(
            "UPDATE stock_lot SET gs1_scanned = TRUE WHERE id BETWEEN %s AND %s AND MOD(id, 10) < 7",
            first_lot,
            last_lot,
        )
    )
    # counts: 0.2 per lot over the last 400 days, 95% matched
    counts = int(n * KPI_COUNTS_PER_LOT)
    count_lots = [rng.randint(first_lot, last_lot) for _index in range(counts)]
    count_at = [_minutes(-rng.uniform(0, 400)) for _index in range(counts)]
    count_diff = [0 if rng.random() < 0.95 else -rng.randint(1, 3) for _index in range(counts)]
    env.cr.execute(
        SQL(
            """
            INSERT INTO stock_lot_count (
                lot_id, product_id, location_id, system_qty, counted_qty, difference_qty, is_accurate,
                user_id, date, company_id, create_uid, create_date, write_uid, write_date)
            SELECT lot.id, lot.product_id, %(location)s, 50, 50 + src.diff, src.diff, src.diff = 0,
                   %(uid)s, %(anchor)s + make_interval(mins => src.at), %(company)s,
                   %(uid)s, %(anchor)s, %(uid)s, %(anchor)s
              FROM unnest(%(lots)s::int[], %(at)s::int[], %(diff)s::int[]) AS src(lot_id, at, diff)
              JOIN stock_lot lot ON lot.id = src.lot_id
            """,
            location=info["location_ids"][0],
            uid=env.uid,
            anchor=start,
            company=env.company.id,
            lots=count_lots,
            at=count_at,
            diff=count_diff,
        )
    )
    # recalls: one per 500 lots, a fifth of them real (contained), the others mock drills (traced)
    recalls = max(int(n * KPI_RECALLS_PER_LOT), 10)
    recall_lots = [rng.randint(first_lot, last_lot) for _index in range(recalls)]
    recall_mock = [index % 5 != 0 for index in range(recalls)]
    recall_at = [_minutes(-rng.uniform(1, 400)) for _index in range(recalls)]
    recall_hours = [rng.uniform(2, 48) for _index in range(recalls)]
    recall_ms = [rng.uniform(50, 2000) for _index in range(recalls)]
    recall_avoided = [round(rng.uniform(100, 5000), 2) for _index in range(recalls)]
    env.cr.execute(
        SQL(
            """
            WITH src AS (
                SELECT * FROM unnest(%(lots)s::int[], %(mock)s::bool[], %(at)s::int[], %(hours)s::float[],
                                     %(ms)s::float[], %(avoided)s::numeric[])
                       WITH ORDINALITY AS src(lot_id, is_mock, at, hours, ms, avoided, g)
            ), recall AS (
                INSERT INTO stock_lot_recall (
                    name, company_id, reason, recall_class, is_mock, state, traced_date, contained_date,
                    trace_duration_ms, broad_scope_value, targeted_scope_value, scope_avoided_value,
                    scope_avoided_pct, create_uid, create_date, write_uid, write_date)
                SELECT %(prefix)s || src.g, %(company)s, 'Benchmark', '2', src.is_mock,
                       CASE WHEN src.is_mock THEN 'traced' ELSE 'contained' END,
                       %(anchor)s + make_interval(mins => src.at) + interval '10 minutes',
                       CASE WHEN src.is_mock THEN NULL
                            ELSE %(anchor)s + make_interval(mins => src.at) + src.hours * interval '1 hour' END,
                       src.ms,
                       CASE WHEN src.is_mock THEN 0 ELSE src.avoided * 4 END,
                       CASE WHEN src.is_mock THEN 0 ELSE src.avoided * 3 END,
                       CASE WHEN src.is_mock THEN 0 ELSE src.avoided END,
                       CASE WHEN src.is_mock THEN 0 ELSE 25 END,
                       %(uid)s, %(anchor)s + make_interval(mins => src.at),
                       %(uid)s, %(anchor)s + make_interval(mins => src.at)
                  FROM src ORDER BY src.g
                RETURNING id, name
            )
            INSERT INTO stock_lot_recall_lot_rel (recall_id, lot_id)
            SELECT recall.id, src.lot_id FROM recall JOIN src ON recall.name = %(prefix)s || src.g
            """,
            lots=recall_lots,
            mock=recall_mock,
            at=recall_at,
            hours=recall_hours,
            ms=recall_ms,
            avoided=recall_avoided,
            prefix=KPI_RECALL_PREFIX,
            company=env.company.id,
            uid=env.uid,
            anchor=start,
        )
    )
    env.cr.execute(
        SQL("SELECT COUNT(*) FROM stock_move_line WHERE fefo_checked AND product_id = ANY(%s)", info["product_ids"])
    )
    fefo_lines = env.cr.fetchone()[0]
    return {**info, "fefo_lines": fefo_lines, "counts": counts, "recalls": recalls}


def kpis(env, n, seed):
    """The overview's events on the ``valuation`` dataset of ``n`` lots (built first when missing).

    ``n`` of its delivery lines checked for FEFO at validation (about 3% not
    compliant), 1% of the other deliveries turned into scraps (shrinkage), 70%
    of the lots received by GS1 scan, 0.2 lot counts per lot (95% matched) and
    one recall per 500 lots (a fifth real and contained, the others mock and
    traced), all dated over the 400 days before the anchor. Returns the
    valuation dataset's info plus ``fefo_lines``, ``counts`` and ``recalls``.
    """
    return _ensure(env, "kpis", n, seed, _build_kpis, _drop_kpis)


# --- recall trace: one lot, two internal steps, n customer deliveries --------------------------

RECALL_ZONE = "LMCB Recall Zone"


def _recall_master_data(env, n):
    warehouse = _main_warehouse(env)
    product = _product(
        env,
        "LMCB-RECALL",
        {"name": "LMCB Recall Yogurt", "is_storable": True, "tracking": "lot", "use_expiration_date": True},
    )
    zone = env["stock.location"].search([("name", "=", RECALL_ZONE)], limit=1) or env["stock.location"].create(
        {"name": RECALL_ZONE, "usage": "internal", "location_id": warehouse.lot_stock_id.id}
    )
    existing = env["res.partner"].search([("ref", "=like", "LMCB-C%")], order="id")
    missing = n - len(existing)
    for start in range(0, max(missing, 0), 1000):
        existing |= env["res.partner"].create(
            [
                {
                    "name": f"LMCB Customer {len(existing) + i + 1}",
                    "ref": f"LMCB-C{len(existing) + i + 1}",
                    "is_company": True,
                }
                for i in range(min(1000, missing - start))
            ]
        )
    return warehouse, product, zone, existing[:n]


def _build_recall_trace(env, n, seed):
    warehouse, product, zone, customers = _recall_master_data(env, n)
    lot = env["stock.lot"].create({"name": f"B{seed}-RECALL-{n}", "product_id": product.id})
    env.flush_all()
    stock, output = warehouse.lot_stock_id, warehouse.wh_output_stock_loc_id
    suppliers = env.ref("stock.stock_location_suppliers")
    customers_location = env.ref("stock.stock_location_customers")
    start = anchor(env)
    # receipt, two internal steps, then one delivery of 1 unit per customer
    steps = [
        (suppliers.id, stock.id, n, warehouse.in_type_id.id, None),
        (stock.id, zone.id, n, warehouse.int_type_id.id, None),
        (zone.id, output.id, n, warehouse.int_type_id.id, None),
    ]
    steps += [
        (output.id, customers_location.id, 1, warehouse.out_type_id.id, partner_id) for partner_id in customers.ids
    ]
    env.cr.execute(
        SQL(
            """
            WITH src AS (
                SELECT * FROM unnest(%(source)s::int[], %(destination)s::int[], %(qty)s::float[], %(ptype)s::int[],
                                     %(partner)s::int[])
                       WITH ORDINALITY AS src(source, destination, qty, ptype, partner, g)
            ), pickings AS (
                INSERT INTO stock_picking (name, picking_type_id, location_id, location_dest_id, partner_id, company_id,
                                           state, move_type, scheduled_date, date_done, date,
                                           create_uid, create_date, write_uid, write_date)
                SELECT %(prefix)s || src.g, src.ptype, src.source, src.destination, src.partner, %(company)s,
                       'done', 'direct', %(anchor)s + make_interval(mins => src.g::int),
                       %(anchor)s + make_interval(mins => src.g::int),
                       %(anchor)s, %(uid)s, %(anchor)s, %(uid)s, %(anchor)s
                  FROM src ORDER BY src.g
                RETURNING id, name
            ), moves AS (
                INSERT INTO stock_move (name, product_id, product_uom, product_uom_qty, product_qty, quantity,
                                        location_id, location_dest_id, company_id, state, date, procure_method,
                                        picking_id, partner_id, reference, picking_type_id, picked,
                                        create_uid, create_date, write_uid, write_date)
                SELECT pickings.name, %(product)s, %(uom)s, src.qty, src.qty, src.qty,
                       src.source, src.destination, %(company)s, 'done', %(anchor)s + make_interval(mins => src.g::int),
                       'make_to_stock', pickings.id, src.partner, pickings.name, src.ptype, TRUE,
                       %(uid)s, %(anchor)s, %(uid)s, %(anchor)s
                  FROM src JOIN pickings ON pickings.name = %(prefix)s || src.g
                RETURNING id, picking_id, location_id, location_dest_id, quantity, date, reference
            )
            INSERT INTO stock_move_line (move_id, picking_id, product_id, product_uom_id, quantity,
                                         quantity_product_uom, lot_id, location_id, location_dest_id, company_id,
                                         state, date, reference, picked, create_uid, create_date, write_uid, write_date)
            SELECT moves.id, moves.picking_id, %(product)s, %(uom)s, moves.quantity, moves.quantity,
                   %(lot)s, moves.location_id, moves.location_dest_id, %(company)s, 'done', moves.date, moves.reference,
                   TRUE, %(uid)s, %(anchor)s, %(uid)s, %(anchor)s
              FROM moves
            """,
            source=[step[0] for step in steps],
            destination=[step[1] for step in steps],
            qty=[float(step[2]) for step in steps],
            ptype=[step[3] for step in steps],
            partner=[step[4] for step in steps],
            prefix=f"LMCB/RCL{n}/",
            product=product.id,
            uom=product.uom_id.id,
            lot=lot.id,
            company=env.company.id,
            uid=env.uid,
            anchor=start,
        )
    )
    return {"lot_id": lot.id, "product_id": product.id, "customers": len(customers), "events": len(steps)}


def recall_trace(env, n, seed):
    """One lot received, moved through two internal steps, then delivered 1 unit to each of ``n`` customers.

    Customers are real partners (ORM, reused between sizes); pickings, moves and move
    lines are inserted by SQL, all done. Returns ``{"lot_id", "product_id", "customers", "events"}``.
    """
    return _ensure(env, f"recall_trace_{n}", n, seed, _build_recall_trace, lambda env: None)


# --- FEFO compliance: n done customer lines of the FEFO product's lots -------------------------


def _build_fefo_lines(env, n, seed):
    info = quants(env, 1_000, seed)
    rng = random.Random(seed)
    env.cr.execute(SQL("SELECT id FROM stock_lot WHERE product_id = %s ORDER BY id", info["product_id"]))
    lot_ids = [row[0] for row in env.cr.fetchall()]
    picked = [rng.choice(lot_ids) for _index in range(n)]
    warehouse = _main_warehouse(env)
    product = env["product.product"].browse(info["product_id"])
    env.cr.execute(
        SQL(
            """
            INSERT INTO stock_move_line (product_id, product_uom_id, quantity, quantity_product_uom, lot_id,
                                         location_id, location_dest_id, company_id, state, date, reference, picked,
                                         create_uid, create_date, write_uid, write_date)
            SELECT %(product)s, %(uom)s, 1, 1, src.lot_id, %(stock)s, %(customers)s, %(company)s, 'done',
                   %(anchor)s, 'LMCB/FEFO/' || src.g, TRUE, %(uid)s, %(anchor)s, %(uid)s, %(anchor)s
              FROM unnest(%(lots)s::int[]) WITH ORDINALITY AS src(lot_id, g)
            """,
            product=product.id,
            uom=product.uom_id.id,
            stock=warehouse.lot_stock_id.id,
            customers=env.ref("stock.stock_location_customers").id,
            company=env.company.id,
            anchor=anchor(env),
            uid=env.uid,
            lots=picked,
        )
    )
    return {"product_id": product.id, "lines": n, "lots": len(lot_ids)}


def _drop_fefo_lines(env):
    env.cr.execute("DELETE FROM stock_move_line WHERE reference LIKE 'LMCB/FEFO/%%'")


def fefo_lines(env, n, seed):
    """``n`` done customer move lines (1 unit each) of random lots of the ``quants`` dataset (1,000 lots).

    Without moves: the compliance check reads only the lines, lots and quants.
    Returns ``{"product_id", "lines", "lots"}``.
    """
    return _ensure(env, "fefo_lines", n, seed, _build_fefo_lines, _drop_fefo_lines)


# --- FSMA 204 records: a year of one product's receipts and shipments --------------------------

FSMA_EVENTS_PER_LOT = 100  # one receipt, then 99 deliveries of 1 unit
FSMA_CUSTOMERS = 200
FSMA_VENDOR_CODE_EVERY = 10  # one lot in ten carries the vendor's own lot code (the TLC)


def _fsma_master_data(env, n):
    product = _product(
        env,
        f"LMCB-FSMA-{n}",
        {"name": f"LMCB Baby Spinach {n}", "is_storable": True, "tracking": "lot", "use_expiration_date": True},
    )
    vendor = env["res.partner"].search([("ref", "=", "LMCB-FSMA-V")], limit=1) or env["res.partner"].create(
        {
            "name": "LMCB Green Farms",
            "ref": "LMCB-FSMA-V",
            "is_company": True,
            "street": "1 Field Road",
            "city": "Salinas",
            "zip": "93901",
        }
    )
    customers = env["res.partner"].search([("ref", "=like", "LMCB-FSMA-C%")], order="id")
    if len(customers) < FSMA_CUSTOMERS:
        customers |= env["res.partner"].create(
            [
                {"name": f"LMCB Grocer {i}", "ref": f"LMCB-FSMA-C{i}", "is_company": True, "city": "Fresno"}
                for i in range(len(customers) + 1, FSMA_CUSTOMERS + 1)
            ]
        )
    return product, vendor, customers[:FSMA_CUSTOMERS]


def _build_fsma_records(env, n, seed):
    rng = random.Random(seed)
    warehouse = _main_warehouse(env)
    product, vendor, customers = _fsma_master_data(env, n)
    lot_count = max(1, n // FSMA_EVENTS_PER_LOT)
    lots = env["stock.lot"].create(
        [
            {
                "name": f"B{seed}-FSMA{n}-{i:06d}",
                "product_id": product.id,
                "supplier_lot_name": f"GF-{rng.randrange(10**6):06d}" if i % FSMA_VENDOR_CODE_EVERY == 0 else False,
            }
            for i in range(lot_count)
        ]
    )
    env.flush_all()
    suppliers = env.ref("stock.stock_location_suppliers")
    customers_location = env.ref("stock.stock_location_customers")
    stock = warehouse.lot_stock_id
    steps = []  # (source, destination, qty, picking type, partner, lot)
    for index, lot in enumerate(lots):
        deliveries = n // lot_count - 1 + (1 if index < n % lot_count else 0)
        steps.append((suppliers.id, stock.id, float(deliveries), warehouse.in_type_id.id, vendor.id, lot.id))
        steps += [
            (stock.id, customers_location.id, 1.0, warehouse.out_type_id.id, rng.choice(customers.ids), lot.id)
            for _delivery in range(deliveries)
        ]
    # spread over the year before the anchor, in order
    start = anchor(env) - timedelta(days=365)
    step_minutes = 365 * 24 * 60 / len(steps)
    env.cr.execute(
        SQL(
            """
            WITH src AS (
                SELECT * FROM unnest(%(source)s::int[], %(destination)s::int[], %(qty)s::float[], %(ptype)s::int[],
                                     %(partner)s::int[], %(lot)s::int[])
                       WITH ORDINALITY AS src(source, destination, qty, ptype, partner, lot, g)
            ), dated AS (
                SELECT src.*, %(start)s + make_interval(secs => (src.g * %(step)s * 60)::int) AS moment FROM src
            ), pickings AS (
                INSERT INTO stock_picking (name, picking_type_id, location_id, location_dest_id, partner_id, company_id,
                                           state, move_type, scheduled_date, date_done, date, origin,
                                           create_uid, create_date, write_uid, write_date)
                SELECT %(prefix)s || dated.g, dated.ptype, dated.source, dated.destination, dated.partner,
                       %(company)s, 'done', 'direct', dated.moment, dated.moment, dated.moment, 'SO' || dated.g,
                       %(uid)s, dated.moment, %(uid)s, dated.moment
                  FROM dated ORDER BY dated.g
                RETURNING id, name
            ), moves AS (
                INSERT INTO stock_move (name, product_id, product_uom, product_uom_qty, product_qty, quantity,
                                        location_id, location_dest_id, company_id, state, date, procure_method,
                                        picking_id, partner_id, reference, picking_type_id, picked, restrict_lot_id,
                                        create_uid, create_date, write_uid, write_date)
                SELECT pickings.name, %(product)s, %(uom)s, dated.qty, dated.qty, dated.qty,
                       dated.source, dated.destination, %(company)s, 'done', dated.moment,
                       'make_to_stock', pickings.id, dated.partner, pickings.name, dated.ptype, TRUE, dated.lot,
                       %(uid)s, dated.moment, %(uid)s, dated.moment
                  FROM dated JOIN pickings ON pickings.name = %(prefix)s || dated.g
                RETURNING id, picking_id, location_id, location_dest_id, quantity, date, reference, restrict_lot_id
            )
            INSERT INTO stock_move_line (move_id, picking_id, product_id, product_uom_id, quantity,
                                         quantity_product_uom, lot_id, location_id, location_dest_id, company_id,
                                         state, date, reference, picked, create_uid, create_date, write_uid, write_date)
            SELECT moves.id, moves.picking_id, %(product)s, %(uom)s, moves.quantity, moves.quantity,
                   moves.restrict_lot_id, moves.location_id, moves.location_dest_id, %(company)s, 'done', moves.date,
                   moves.reference, TRUE, %(uid)s, moves.date, %(uid)s, moves.date
              FROM moves
            """,
            source=[step[0] for step in steps],
            destination=[step[1] for step in steps],
            qty=[step[2] for step in steps],
            ptype=[step[3] for step in steps],
            partner=[step[4] for step in steps],
            lot=[step[5] for step in steps],
            start=start,
            step=step_minutes,
            prefix=f"LMCB/FSMA{n}/",
            product=product.id,
            uom=product.uom_id.id,
            company=env.company.id,
            uid=env.uid,
        )
    )
    # the planner must know the new rows (autovacuum would analyze them some time later)
    env.cr.execute("ANALYZE stock_picking, stock_move, stock_move_line")
    return {
        "product_id": product.id,
        "lots": lot_count,
        "events": len(steps),
        "date_from": start.date().isoformat(),
        "date_to": anchor(env).date().isoformat(),
    }


def fsma_records(env, n, seed):
    """A year of one product's FSMA 204 events: ``n // 100`` lots received from a vendor, then delivered.

    Its own product per n (``LMCB-FSMA-<n>``), so that sizes do not mix; each lot is
    received once (one lot in ten with the vendor's lot code) then delivered 1 unit
    at a time to one of 200 customers (real partners, ORM); pickings, moves and move
    lines inserted by SQL, all done, spread evenly over the 365 days before the
    anchor. Returns ``{"product_id", "lots", "events", "date_from", "date_to"}``.
    """
    return _ensure(env, f"fsma_records_{n}", n, seed, _build_fsma_records, lambda env: None)


DATASETS = {
    "lots": lots,
    "quants": quants,
    "expiry_risk": expiry_risk,
    "markdown_rules": markdown_rules,
    "valuation": valuation,
    "recall_trace": recall_trace,
    "kpis": kpis,
    "fsma_records": fsma_records,
}


def main(argv=None):
    parser = argparse.ArgumentParser(description="Build (or reuse) a benchmark dataset in the scratch database.")
    parser.add_argument("dataset", choices=sorted(DATASETS))
    parser.add_argument("n", type=int)
    parser.add_argument("--scale", choices=("small", "full"), default="small")
    parser.add_argument("--db", default=common.DEFAULT_DB)
    parser.add_argument("--seed", type=int, default=common.DEFAULT_SEED)
    parser.add_argument("-c", "--config", default=common.default_config())
    args = parser.parse_args(argv)
    prepare_database(args.db, args.scale, args.seed, config=args.config)
    with common.odoo_env(args.db, args.config) as env:
        info = DATASETS[args.dataset](env, args.n, args.seed)
        env.cr.commit()
    print(json.dumps(info))


if __name__ == "__main__":
    main()
