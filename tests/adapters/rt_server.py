"""A real Request Tracker 5 on loopback, with its own SQLite database, for tests and benchmarks.

Debian's ``request-tracker5``, ``rt5-standalone`` and ``rt5-db-sqlite`` packages must be installed
(``scripts/install-system.sh`` installs them). Each :class:`RTServer` gets a fresh database of its
own in ``folder`` (the system's database in ``/var/lib/dbconfig-common`` is never touched), so
several servers, test sessions or helpers can run side by side. Setting one up takes about ten
seconds (``rt-setup-database`` then a bootstrap script); starting it again takes about three.

The database holds, besides RT's defaults:

- the queue ``General``, and a ticket custom field ``GrokAssist External ID`` (global, unique
  values) that the RT adapter uses as its idempotency key;
- ``root`` (SuperUser) with :attr:`RTServer.root_password`;
- ``grokassist``, the adapter's user, privileged, with only the rights the adapter needs on
  ``General`` (``docs/ticketing.md`` lists them), a password and an RT auth token;
- ``agent`` ("Alex Agent"), a second privileged user with the same rights, to act as the human
  agent: reply to the customer, write internal notes, resolve tickets.

Outside pytest (a benchmark, a manual check)::

    import sys; sys.path.insert(0, "tests")
    from adapters.rt_server import RTServer

    with RTServer(Path("/tmp/rt")) as rt:      # set up and started
        rt.url                                 # http://127.0.0.1:PORT
        rt.adapter_uri                         # rt+http://127.0.0.1:PORT/General (open_ticketing)
        rt.stop(); rt.start(); rt.restart()    # same port, same database
        rt.kill()                              # SIGKILL, like a crash
    # stopped on exit; the folder (database, log) stays

In pytest, use the session-scoped :func:`rt_server` fixture (re-exported by
``tests/adapters/conftest.py``; other test folders import it into their conftest the same way).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

RT_SERVER = Path("/usr/share/request-tracker5/libexec/rt-server")
RT_SETUP_DATABASE = shutil.which("rt-setup-database-5") or next(
    (str(p) for p in [Path("/usr/sbin/rt-setup-database-5")] if p.is_file()), None
)  # /usr/sbin may be missing from a CI PATH
RT_LIB = Path("/usr/share/request-tracker5/lib")
#: Why the RT tests are skipped, if they are.
MISSING = (
    "Request Tracker 5 is not installed "
    "(scripts/install-system.sh installs request-tracker5 rt5-standalone rt5-db-sqlite from Debian)"
)
AVAILABLE = RT_SERVER.is_file() and RT_SETUP_DATABASE is not None
#: The custom field the RT adapter stores the escalation id in.
EXTERNAL_ID_FIELD = "GrokAssist External ID"
#: The rights the adapter's user needs on its queue (docs/ticketing.md says the same).
ADAPTER_RIGHTS = (
    "SeeQueue",
    "CreateTicket",
    "ShowTicket",
    "ReplyToTicket",
    "CommentOnTicket",
    "ShowTicketComments",
    "ModifyTicket",
    "SeeCustomField",
    "ModifyCustomField",
)
#: Starlet's prefork workers: each holds ~200 MB; four serve a test suite and a benchmark.
WORKERS = 4

_SITE_CONFIG = """\
Set($rtname, 'grokassist-test');
Set($Organization, 'grokassist.test');
Set($Timezone, 'UTC');
Set($DatabaseType, 'SQLite');
Set($DatabaseName, '{database}');
Set($WebPath, '');
Set($WebDomain, '127.0.0.1');
Set($WebPort, {port});
Set($WebBaseURL, 'http://127.0.0.1:{port}');
Set($CorrespondAddress, 'support@grokassist.test');
Set($CommentAddress, 'support-comment@grokassist.test');
Set($LogToSyslog, undef);
Set($LogToFile, undef);
Set($LogToSTDERR, 'warning');
Set($MailCommand, sub {{ 1 }});
1;
"""

_BOOTSTRAP = r"""
use strict; use warnings;
use RT; RT::LoadConfig(); RT::Init();
my ($root_pw, $adapter_pw, $agent_pw, $field, @rights) = @ARGV;
my ($ok, $msg);
my $root = RT::User->new(RT->SystemUser); $root->Load('root');
($ok, $msg) = $root->SetPassword($root_pw); die "root: $msg\n" unless $ok;
my $queue = RT::Queue->new(RT->SystemUser); $queue->Load('General');
my %token;
for my $spec (['grokassist', $adapter_pw, 'grokassist'], ['agent', $agent_pw, 'Alex Agent']) {
    my ($name, $password, $real) = @$spec;
    my $user = RT::User->new(RT->SystemUser);
    ($ok, $msg) = $user->Create(Name => $name, Password => $password, RealName => $real,
                                EmailAddress => "$name\@grokassist.test", Privileged => 1);
    die "$name: $msg\n" unless $ok;
    for my $right (@rights) {
        ($ok, $msg) = $user->PrincipalObj->GrantRight(Right => $right, Object => $queue);
        die "$name $right: $msg\n" unless $ok;
    }
    my $token = RT::AuthToken->new(RT->SystemUser);
    my ($id, $message, $string) = $token->Create(Owner => $user->id, Description => 'grokassist tests');
    die "$name token: $message\n" unless $id;
    $token{$name} = $string;
}
my $cf = RT::CustomField->new(RT->SystemUser);
($ok, $msg) = $cf->Create(Name => $field, Type => 'FreeformSingle', LookupType => 'RT::Queue-RT::Ticket',
                          Queue => 0, UniqueValues => 1,
                          Description => 'grokassist escalation id (the idempotency key)');
die "custom field: $msg\n" unless $ok;
print "TOKEN grokassist $token{grokassist}\nTOKEN agent $token{agent}\n";
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RTServer:
    """Request Tracker 5 on ``127.0.0.1:port`` with its database and log in ``folder``.

    Creating one sets up the database and, unless ``start=False``, starts the server.
    :meth:`stop`, :meth:`start`, :meth:`restart` and :meth:`kill` keep the port and the database.
    """

    queue = "General"
    adapter_user = "grokassist"
    agent_user = "agent"
    external_id_field = EXTERNAL_ID_FIELD

    def __init__(self, folder: Path, *, port: int | None = None, start: bool = True) -> None:
        if not AVAILABLE:
            raise RuntimeError(MISSING)
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.rest_url = f"{self.url}/REST/2.0"
        #: ``open_ticketing`` URI of the adapter on this server (credentials go separately).
        self.adapter_uri = f"rt+http://127.0.0.1:{self.port}/{self.queue}"
        self.database = self.folder / "rtdb"
        self.log_path = self.folder / "rt.log"
        self.root_password = secrets.token_urlsafe(12)
        self.adapter_password = secrets.token_urlsafe(12)
        self.agent_password = secrets.token_urlsafe(12)
        self.adapter_token = ""
        self.agent_token = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._setup()
        if start:
            self.start()

    # -- set-up -------------------------------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        """The environment RT's own commands need to use this server's configuration."""
        return {
            **os.environ,
            "RT_SITE_CONFIG": str(self.folder / "RT_SiteConfig.pm"),
            "RT_SITE_CONFIG_DIR": str(self.folder / "RT_SiteConfig.d"),  # empty: not the system's
            "PERL5LIB": str(RT_LIB),
        }

    def _setup(self) -> None:
        (self.folder / "RT_SiteConfig.d").mkdir(exist_ok=True)
        (self.folder / "RT_SiteConfig.pm").write_text(
            _SITE_CONFIG.format(database=self.database, port=self.port), encoding="utf-8"
        )
        if self.database.exists():
            self.database.unlink()
        assert RT_SETUP_DATABASE is not None
        self._run([RT_SETUP_DATABASE, "--action", "init", "--skip-create"], "rt-setup-database")
        output = self._run(
            [
                "perl",
                "-e",
                _BOOTSTRAP,
                self.root_password,
                self.adapter_password,
                self.agent_password,
                EXTERNAL_ID_FIELD,
                *ADAPTER_RIGHTS,
            ],
            "the bootstrap script",
        )
        tokens = dict(line.split(" ", 2)[1:] for line in output.splitlines() if line.startswith("TOKEN "))
        self.adapter_token = tokens["grokassist"]
        self.agent_token = tokens["agent"]

    def _run(self, command: list[str], what: str) -> str:
        result = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result.stdout

    # -- life cycle ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 60) -> None:
        """Start RT (again) and wait until REST 2 answers."""
        if self.running:
            return
        log = self.log_path.open("ab")
        try:
            self._process = subprocess.Popen(
                [
                    str(RT_SERVER),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--max-workers",
                    str(WORKERS),
                ],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends the workers too
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"rt-server exited ({self._process.returncode}); see {self.log_path}")
            try:
                self.request("GET", "/rt")
                return
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"rt-server did not answer within {timeout:.0f} s; see {self.log_path}")
            time.sleep(0.1)

    def _signal_group(self, sig: signal.Signals) -> None:
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, sig)

    def stop(self, timeout: float = 15) -> None:
        """Stop RT gracefully (SIGTERM to its process group), killing it after ``timeout`` seconds."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self._process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self._process.wait(timeout=timeout)
        self._signal_group(signal.SIGKILL)  # workers that outlived their master
        self._wait_port_free()
        self._process = None

    def kill(self) -> None:
        """SIGKILL RT and its workers, like a crash."""
        if self._process is None:
            return
        self._signal_group(signal.SIGKILL)
        self._process.wait(timeout=15)
        self._wait_port_free()
        self._process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def _wait_port_free(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    pass
            except OSError:
                return
            time.sleep(0.05)

    def __enter__(self) -> RTServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- talking to it as an agent or an administrator ----------------------------------------

    def request(
        self, method: str, path: str, body: Any = None, *, user: str = "root", timeout: float = 30
    ) -> Any:
        """One REST 2 call as ``user`` (``root``, ``grokassist`` or ``agent``); the decoded JSON answer."""
        password = {
            "root": self.root_password,
            self.adapter_user: self.adapter_password,
            self.agent_user: self.agent_password,
        }[user]
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.rest_url}{path}", data=data, method=method)
        credentials = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {credentials}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def reply_as_agent(self, ticket_id: str, text: str) -> None:
        """A human agent's public reply (RT "correspond")."""
        self.request(
            "POST",
            f"/ticket/{ticket_id}/correspond",
            {"Content": text, "ContentType": "text/plain"},
            user=self.agent_user,
        )

    def note_as_agent(self, ticket_id: str, text: str) -> None:
        """A human agent's internal note (RT "comment")."""
        self.request(
            "POST",
            f"/ticket/{ticket_id}/comment",
            {"Content": text, "ContentType": "text/plain"},
            user=self.agent_user,
        )

    def set_status(self, ticket_id: str, status: str) -> None:
        """Set an RT status (``new``, ``open``, ``stalled``, ``resolved``, ``rejected``) as the agent."""
        self.request("PUT", f"/ticket/{ticket_id}", {"Status": status}, user=self.agent_user)

    def tickets(self, query: str = "id > 0") -> list[dict[str, Any]]:
        """Every ticket matching the TicketSQL ``query``, with its subject, status and external id."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            params = urllib.parse.urlencode(
                {"query": query, "fields": "Subject,Status,CustomFields", "per_page": 100, "page": page}
            )
            result = self.request("GET", f"/tickets?{params}")
            found.extend(result["items"])
            if len(result["items"]) < 100:
                return found
            page += 1


@pytest.fixture(scope="session")
def rt_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RTServer]:
    """One real RT 5 for the test session (skipped with the install command if RT is missing)."""
    if not AVAILABLE:
        pytest.skip(MISSING)
    with RTServer(tmp_path_factory.mktemp("rt5")) as server:
        yield server
