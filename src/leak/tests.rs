use super::*;

/// Ordinary messages for people, including ones that resemble a rule; none may be flagged.
const HUMAN: &[&str] = &[
    "Trip not found",
    "Invalid email: must contain @",
    "Card declined",
    "The field 'name' is required",
    "Price must be between 1.5 and 10.0",
    "Version 2.3.1 is not supported",
    "Version 1.2.3.4.5 is not supported",
    "Update your app",
    "Select a seat",
    "Please select a seat from the map",
    "Delete failed: trip already started",
    "Not allowed from 8.8.8.8",
    "Requests from 203.0.113.7 are rate limited",
    "El correo ya está registrado",
    "¡La tarjeta fue rechazada! Inténtalo de nuevo.",
    "/api/trips/7 not found",
    "GET /v1/users/42/payments is not allowed",
    "See https://docs.example.com/errors/card-declined for details",
    "Download it from https://example.com/app/home",
    "Node.js 16 is no longer supported",
    "Error: the driver cancelled the trip",
    "Network Error",
    "Contact support@example.com or call +34 600 000 000",
    "The meeting is at 10.30 (local time)",
    "Meet at Main St. (north entrance)",
    "Your balance is 1,234.56 EUR",
    "Only 3 seats left; select one before 12:30:45",
    "e.g. Madrid, i.e. the capital",
    "Too many requests, retry in 30 s",
    "Password must be at least 8 characters",
    "The local store is closed",
    "Try again at noon",
    "Don't panic, your trip is safe",
    "Order #A-1234 was already paid",
    "Use ISO 8601 dates like 2024-05-01T10:00:00Z",
    "Insert your card and try again",
    "Route /app/trips not found",
    "Invalid value for field user.address.zipCode",
    "Look at README.md",
    "Trip 7 is not available at this time (try later)",
    "Introduce un código válido (p.ej. ABC123)",
    "Importe máximo: 1.234,56 €",
];

fn assert_flagged(samples: &[&str]) {
    for s in samples {
        assert!(looks_internal(s), "should be flagged: {s}");
    }
}

#[test]
fn human_messages_pass() {
    for s in HUMAN {
        assert!(!looks_internal(s), "false positive: {s}");
    }
}

#[test]
fn java_frames() {
    assert_flagged(&[
        "at com.foo.Bar.method(Bar.java:42)",
        "java.lang.NullPointerException at com.acme.trips.TripService.find(TripService.java:88)",
        "Caused by: connection refused",
        "at sun.reflect.NativeMethodAccessorImpl.invoke0(Native Method)",
        "Exception in thread \"main\" boom",
    ]);
}

#[test]
fn python_frames() {
    assert_flagged(&[
        "Traceback (most recent call last): File \"/app/x.py\", line 3, in <module>",
        "File \"/usr/lib/python3.11/site-packages/django/core/handlers.py\", line 47, in inner",
        "File \"main.py\", line 3",
        "During handling of the above exception, another exception occurred",
    ]);
}

#[test]
fn node_frames() {
    assert_flagged(&[
        "at Object.<anonymous> (/app/index.js:1:2)",
        "at async Promise.all (index 0)",
        "at processTicksAndRejections (node:internal/process/task_queues:95:5)",
        "at Layer.handle [as handle_request] (/srv/node_modules/express/lib/router/layer.js:95:5)",
        "at main (file:///home/app/server.mjs:10:3)",
        "TypeError: Cannot read properties of undefined (reading 'id')",
    ]);
}

#[test]
fn go_frames() {
    assert_flagged(&[
        "goroutine 1 [running]:",
        "main.main() /go/src/app/main.go:12 +0x1d",
        "handler.go:88 +0x1d",
        "panic: runtime error: invalid memory address or nil pointer dereference",
        "panic: something broke",
    ]);
}

#[test]
fn dotnet_frames() {
    assert_flagged(&[
        "at Foo.Bar() in C:\\src\\x.cs:line 12",
        "System.NullReferenceException: Object reference not set to an instance of an object.",
        "at Trips.Api.Controllers.TripsController.Get(Int32 id)",
        "--- End of inner exception stack trace ---",
    ]);
}

#[test]
fn ruby_and_rust_and_php_frames() {
    assert_flagged(&[
        "app/models/x.rb:12:in 'method'",
        "/usr/local/bundle/gems/actionpack-7.0/lib/action_dispatch.rb:23:in `call'",
        "ActiveRecord::RecordNotFound: Couldn't find Trip with 'id'=7",
        "thread 'main' panicked at src/main.rs:12:5",
        "PHP Fatal error: Uncaught Error in /var/www/html/index.php:14 Stack trace: #0 {main}",
    ]);
}

#[test]
fn file_paths() {
    assert_flagged(&[
        "cannot open /var/www/app.py",
        "config missing at /etc/trips/config.yaml",
        "failed to read /home/deploy/.env",
        "template /app/src/views/trip not found",
        "No such file: /usr/lib/libssl",
        "Could not load C:\\inetpub\\wwwroot\\web.config",
        "Could not load c:/Users/svc/app/settings.json",
        "share \\\\fileserver\\uploads unavailable",
        "path ../../etc/passwd rejected",
        "Template src/views/trip.php failed",
        "libfoo.so.6: cannot open shared object file",
    ]);
}

#[test]
fn exception_class_names() {
    assert_flagged(&[
        "NullPointerException",
        "java.lang.IllegalStateException: Expected BEGIN_OBJECT",
        "ValueError: invalid literal for int() with base 10: 'abc'",
        "KeyError: 'trip_id'",
        "TypeError: Cannot read properties of undefined",
        "org.hibernate.exception.ConstraintViolationException: could not insert",
        "psycopg2.errors.UniqueViolation",
        "com.acme.trips.TripNotAvailable",
        "Unhandled RuntimeError",
        "Exception: boom",
    ]);
}

#[test]
fn sql() {
    assert_flagged(&[
        "SELECT id, name FROM trips WHERE id = 7",
        "Error executing: INSERT INTO users (email) VALUES ($1)",
        "UPDATE trips SET status = 'done' WHERE id = 7",
        "DELETE FROM sessions WHERE user_id = 3",
        "select t1_0.id from trips t1_0 where t1_0.id=?",
        "ORA-00942: table or view does not exist",
        "ERROR: syntax error at or near \"FORM\"",
        "duplicate key value violates unique constraint \"users_email_key\"",
        "SQLSTATE[23000]: Integrity constraint violation",
        "ERROR: relation \"trips\" does not exist",
        "Duplicate entry 'a@b.c' for key 'users.email'",
        "You have an error in your SQL syntax; check the manual",
    ]);
}

#[test]
fn private_ipv4() {
    assert_flagged(&[
        "connect to 10.0.3.17:5432 failed",
        "upstream 172.16.0.4 refused",
        "upstream 172.31.255.1 refused",
        "host (192.168.1.20) unreachable",
        "listening on 127.0.0.1:8080",
        "metadata at 169.254.169.254 timed out",
        "pod 100.64.3.2 is down",
        "bound to 0.0.0.0",
    ]);
    assert!(!looks_internal("172.32.0.1 is public"));
    assert!(!looks_internal("100.128.0.1 is public"));
}

#[test]
fn private_ipv6() {
    assert_flagged(&[
        "connect to [::1]:6379 refused",
        "peer fd12:3456:789a::1 timed out",
        "peer fe80::1ff:fe23:4567:890a%eth0 gone",
        "peer ::ffff:10.0.0.1 gone",
    ]);
    assert!(!looks_internal("Blocked 2001:db8::1 for abuse"));
}

#[test]
fn internal_hostnames() {
    assert_flagged(&[
        "cannot reach localhost:8080",
        "GET http://localhost/api failed",
        "cannot resolve db.internal",
        "ip-10-0-1-5.ec2.internal unreachable",
        "printer.local is offline",
        "http://trips.default.svc.cluster.local:8080/v1 timed out",
        "redis-master.cache.svc:6379 refused",
        "https://billing.corp/api/charge returned 500",
        "nas.lan not responding",
    ]);
}

#[test]
fn connection_strings() {
    assert_flagged(&[
        "could not connect to postgres://app:secret@db:5432/trips",
        "MYSQL://root@db/app refused",
        "mongodb+srv://cluster0.example.net/test timed out",
        "redis://cache:6379 is down",
        "jdbc:postgresql://db:5432/trips",
        "Data Source=sql01;Initial Catalog=Trips;User Id=sa",
    ]);
}

#[test]
fn helpers() {
    assert!(is_ident("Foo_1$"));
    assert!(!is_ident("1foo"));
    assert!(!is_ident(""));
    assert!(is_camel("TripService"));
    assert!(!is_camel("URL"));
    assert_eq!(trim_word("(\"/app/x.py\","), "/app/x.py");
    assert!(at_word_start("a select", 2));
    assert!(!at_word_start("reselect", 2));
}
