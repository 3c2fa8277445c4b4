"""`magazin xdomea …`: agencies, polling the inboxes, processes, appraisal, the 0502."""

from __future__ import annotations

from pathlib import Path

from magazin.errors import Failure

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _cli():
    from magazin import cli

    return cli


def _tenant_filter(slug: str | None) -> str | None:
    from magazin.catalog.models import Tenant

    if slug and not Tenant.objects.filter(slug=slug).exists():
        raise Failure(f"tenant {slug!r} does not exist")
    return slug


def cmd_agency_create(args, home):
    from .services import XdomeaError, agency_dict, create_agency

    c = _cli()
    tenant = c._one_tenant(args.tenant)
    try:
        a = create_agency(
            home,
            tenant.slug,
            args.code,
            user=c._user(args),
            name=args.name,
            fonds=args.fonds,
            inbox=Path(args.inbox),
            outbox=Path(args.outbox),
            two_step=args.two_step,
            partial_takeover=args.partial_takeover,
            authority_id=args.authority_id or "",
        )
    except XdomeaError as e:
        raise Failure(str(e)) from None
    c._out(
        args,
        agency_dict(a),
        lambda d: print(
            f"Agency {d['code']} ({d['name']}) created in {d['tenant']}: fonds {d['fonds']}\n"
            f"  inbox  {d['inbox']}\n  outbox {d['outbox']}"
        ),
    )
    return EXIT_OK


def cmd_agency_list(args, home):
    from .models import Agency
    from .services import agency_dict

    qs = Agency.objects.select_related("tenant", "fonds")
    if slug := _tenant_filter(args.tenant):
        qs = qs.filter(tenant__slug=slug)
    data = [agency_dict(a) for a in qs]
    _cli()._out(
        args,
        data,
        lambda d: (
            [print(f"{x['tenant']:16} {x['code']:16} {x['name']}") for x in d]
            or print("No agencies.")
        ),
    )
    return EXIT_OK


def cmd_poll(args, home):
    from .inbox import poll

    c = _cli()
    handled = poll(home, _tenant_filter(args.tenant), c._user(args))
    data = {"messages": [h.as_dict() for h in handled]}

    def human(d):
        if not d["messages"]:
            print("No messages waiting.")
        for m in d["messages"]:
            print(f"{m['status']:9} {m['agency']:12} {m['file']}")
            for a in m["aips"]:
                print(f"          {a['status']}: {a['aid']} ({a['files']} files)")
            for r in m["replies"]:
                print(f"          reply: {r}")
            for e in m["errors"]:
                print(f"          {e['path']}: {e['reason']} [{e['code']}]")
            if m["quarantine"]:
                print(f"          quarantine {m['quarantine']}")

    c._out(args, data, human)
    bad = any(h.status in ("rejected", "partial") for h in handled)
    return EXIT_FAIL if bad else EXIT_OK


def cmd_process_list(args, home):
    from .models import Process
    from .services import process_summary

    qs = Process.objects.select_related("agency", "agency__tenant").prefetch_related("messages")
    if slug := _tenant_filter(args.tenant):
        qs = qs.filter(agency__tenant__slug=slug)
    data = [process_summary(p) for p in qs]
    _cli()._out(
        args,
        data,
        lambda d: (
            [
                print(
                    f"{x['process_id']}  {x['agency']:12} {x['state']:20} "
                    f"{x['roots']} root(s), {x['decisions']['A']} A, {x['decisions']['V']} V"
                )
                for x in d
            ]
            or print("No processes.")
        ),
    )
    return EXIT_OK


def _process(args):
    from .services import XdomeaError, get_process

    try:
        return get_process(args.process_id, _tenant_filter(getattr(args, "tenant", None)))
    except XdomeaError as e:
        raise Failure(str(e)) from None


def cmd_process_show(args, home):
    from .services import object_tree, process_summary

    p = _process(args)
    data = {**process_summary(p), "objects": object_tree(p)}

    def human(d):
        print(f"Process {d['process_id']} ({d['agency']}, xdomea {d['version']}): {d['state']}")
        if d["error"]:
            print(f"  last error: {d['error']}")
        for m in d["messages"]:
            print(f"  {m['direction']:3} {m['code']} {m['status']:9} {m['time'][:19]} {m['name']}")

        def show(objs, depth):
            for o in objs:
                dec = o["decision"] or "-"
                fate = f" {o['delivered']}" if o["delivered"] else ""
                aid = f" {o['aid']}" if o["aid"] else ""
                print(
                    f"  {'  ' * depth}[{dec}] {o['kind']} {o['reference'] or ''} "
                    f"{o['title']} ({o['id']}){fate}{aid}"
                )
                show(o["children"], depth + 1)

        show(d["objects"], 0)

    _cli()._out(args, data, human)
    return EXIT_OK


def cmd_appraise(args, home):
    from .services import XdomeaError, appraise, read_csv_decisions

    c = _cli()
    p = _process(args)
    decisions: list[tuple[str, str]] = []
    for item in [x for group in args.set or [] for x in group]:
        oid, sep, value = item.partition("=")
        if not sep:
            raise c.UsageError(f"--set {item!r}: use IDSGO=A or IDSGO=V")
        decisions.append((oid.strip(), value.strip().upper()))
    try:
        if args.csv:
            decisions += read_csv_decisions(Path(args.csv))
        if not decisions and args.all is None and not args.confirm_rest_v:
            raise c.UsageError("give --set IDSGO=A|V, --all A|V, --csv FILE or --confirm-rest-v")
        data = appraise(
            home,
            p,
            c._user(args),
            decisions=decisions,
            all_=args.all.upper() if args.all else None,
            confirm_rest_v=args.confirm_rest_v,
        )
    except XdomeaError as e:
        raise Failure(str(e)) from None
    c._out(
        args,
        data,
        lambda d: print(
            f"Process {d['process_id']}: {d['changed']} decision(s) recorded; "
            f"{d['decisions']['A']} A, {d['decisions']['V']} V, "
            f"{d['decisions']['undecided']} undecided"
        ),
    )
    return EXIT_OK


def cmd_send_appraisal(args, home):
    from .services import XdomeaError, send_appraisal

    c = _cli()
    p = _process(args)
    try:
        data = send_appraisal(home, p, c._user(args))
    except XdomeaError as e:
        raise Failure(str(e)) from None
    c._out(
        args,
        data,
        lambda d: print(
            f"Appraisal list {d['message']} written to {d['outbox']} "
            f"({d['A']} A, {d['V']} V); process {d['state']}"
        ),
    )
    return EXIT_OK


def register(xds, cmd) -> None:
    """Add the xdomea subcommands to the `magazin xdomea` parser."""
    from magazin.cli import Parser

    ag = xds.add_parser("agency", help="agencies that deliver by xdomea")
    ags = ag.add_subparsers(dest="action", required=True, parser_class=Parser)
    c = cmd(ags, "create", cmd_agency_create, "register an agency with its inbox and outbox")
    c.add_argument("tenant", metavar="TENANT")
    c.add_argument("code", metavar="CODE")
    c.add_argument("--name", required=True)
    c.add_argument("--fonds", required=True, help="the fonds its records go into")
    c.add_argument("--inbox", required=True, metavar="DIR", help="where its messages arrive")
    c.add_argument("--outbox", required=True, metavar="DIR", help="where our answers go")
    c.add_argument("--two-step", action="store_true", help="accept a 0503 without an offer")
    c.add_argument(
        "--partial-takeover",
        action="store_true",
        help="a fault fails only its root object (default: the whole delivery)",
    )
    c.add_argument("--authority-id", metavar="ID", help="its Behördenkennung, checked if given")
    c = cmd(ags, "list", cmd_agency_list, "list agencies")
    c.add_argument("--tenant")
    c = cmd(xds, "poll", cmd_poll, "process every message waiting in the inboxes once")
    c.add_argument("--tenant")
    c.add_argument("--user")
    pr = xds.add_parser("process", help="Aussonderung processes")
    prs = pr.add_subparsers(dest="action", required=True, parser_class=Parser)
    c = cmd(prs, "list", cmd_process_list, "list processes with state and messages")
    c.add_argument("--tenant")
    c = cmd(prs, "show", cmd_process_show, "a process with its object tree and decisions")
    c.add_argument("process_id", metavar="PROCESS_ID")
    c.add_argument("--tenant")
    c = cmd(xds, "appraise", cmd_appraise, "record appraisal decisions (A = archive, V = destroy)")
    c.add_argument("process_id", metavar="PROCESS_ID")
    c.add_argument("--set", action="append", nargs="+", metavar="IDSGO=A|V")
    c.add_argument("--all", metavar="A|V", type=str.upper, choices=["A", "V"])
    c.add_argument("--csv", metavar="FILE", help="CSV with columns IDSGO and Entscheidung")
    c.add_argument(
        "--confirm-rest-v", action="store_true", help="every object still undecided becomes V"
    )
    c.add_argument("--tenant")
    c.add_argument("--user")
    c = cmd(xds, "send-appraisal", cmd_send_appraisal, "write the 0502 into the agency's outbox")
    c.add_argument("process_id", metavar="PROCESS_ID")
    c.add_argument("--tenant")
    c.add_argument("--user")
