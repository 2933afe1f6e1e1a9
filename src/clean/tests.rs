use super::*;

fn cleaned(raw: &str) -> Option<String> {
    clean_message(raw)
}

fn same(raw: &str) {
    assert_eq!(cleaned(raw).as_deref(), Some(raw), "should pass unchanged");
}

#[test]
fn plain_messages_pass_unchanged() {
    same("Trip not found");
    same("El correo ya está registrado");
    same("¿Olvidaste tu contraseña? Año, niño, pingüino");
    same("Value must be < 10 and > 2");
    same("I <3 trips");
    same("Contact <support@example.com>");
    same("Use Map<String, Trip> in the client");
}

#[test]
fn block_tags_become_spaces() {
    assert_eq!(
        cleaned("<p>Card</p><p>declined</p>").as_deref(),
        Some("Card declined")
    );
    assert_eq!(
        cleaned("Line one<br>line two<br/>three").as_deref(),
        Some("Line one line two three")
    );
    assert_eq!(cleaned("<h1>Not Found</h1>").as_deref(), Some("Not Found"));
    assert_eq!(cleaned("<my-alert>Hi</my-alert>").as_deref(), Some("Hi"));
}

#[test]
fn inline_tags_leave_no_gap() {
    assert_eq!(
        cleaned("<b>Card</b> declined").as_deref(),
        Some("Card declined")
    );
    assert_eq!(
        cleaned("in<em>valid</em> code").as_deref(),
        Some("invalid code")
    );
    assert_eq!(cleaned("<A HREF='/help'>Help</A>").as_deref(), Some("Help"));
}

#[test]
fn attributes_with_angle_brackets_in_quotes() {
    let raw = r#"<span title="a > b" data-x='>'>Seat taken</span>"#;
    assert_eq!(cleaned(raw).as_deref(), Some("Seat taken"));
}

#[test]
fn unterminated_tag_is_text() {
    assert_eq!(cleaned("a <b c").as_deref(), Some("a <b c"));
}

#[test]
fn scripts_styles_and_comments_are_dropped() {
    let raw = "<style>p{color:red}</style>Sold out<script>alert('x')</script>!";
    assert_eq!(cleaned(raw).as_deref(), Some("Sold out !"));
    assert_eq!(
        cleaned("<SCRIPT type=x>a</Script >Ok").as_deref(),
        Some("Ok")
    );
    assert_eq!(cleaned("Ok<!-- build 42 -->!").as_deref(), Some("Ok !"));
    assert_eq!(cleaned("Ok<!-- never closed").as_deref(), Some("Ok"));
    assert_eq!(cleaned("<!DOCTYPE html><?xml v?>Ok").as_deref(), Some("Ok"));
    assert_eq!(cleaned("<script>never closed"), None);
}

#[test]
fn entities() {
    let raw = "&amp; &lt; &gt; &quot; &#39; &apos; &#233; &#xE9; &#XE9; &eacute; &ntilde; &euro;";
    assert_eq!(cleaned(raw).as_deref(), Some("& < > \" ' ' é é é é ñ €"));
    assert_eq!(cleaned("a&nbsp;&nbsp;b").as_deref(), Some("a b"));
    assert_eq!(
        cleaned("Tom &amp;amp; Jerry").as_deref(),
        Some("Tom &amp; Jerry")
    );
}

#[test]
fn malformed_entities_stay_literal() {
    same("R&D team");
    same("a &amp b");
    same("&unknown; &#; &#x; &#12a; &#99999999999;");
    assert_eq!(
        cleaned("bad &#0; &#xD800; &#x110000;").as_deref(),
        Some("bad � � �")
    );
}

#[test]
fn escaped_tags_do_not_survive_as_markup() {
    assert_eq!(
        cleaned("&lt;b&gt;Card&lt;/b&gt; declined").as_deref(),
        Some("Card declined")
    );
    assert_eq!(cleaned("&lt;script&gt;alert(1)&lt;/script&gt;"), None);
}

#[test]
fn control_and_invisible_characters_are_removed() {
    assert_eq!(
        cleaned("Card\u{0}\u{7} declined\u{1b}[0m").as_deref(),
        Some("Card declined[0m")
    );
    assert_eq!(
        cleaned("Tri\u{200b}p \u{202e}found\u{202c}").as_deref(),
        Some("Trip found")
    );
    assert_eq!(cleaned("\u{feff}Hola\u{ad}").as_deref(), Some("Hola"));
    assert_eq!(cleaned("a\u{9f}b").as_deref(), Some("ab"));
}

#[test]
fn whitespace_collapses() {
    assert_eq!(
        cleaned("  Card \t\r\n  declined \n").as_deref(),
        Some("Card declined")
    );
    assert_eq!(cleaned("a\u{a0}\u{3000}\u{2028}b").as_deref(), Some("a b"));
    assert_eq!(cleaned("a\u{0}\n\u{0}b").as_deref(), Some("a b"));
}

#[test]
fn empty_results_are_none() {
    for raw in [
        "",
        "   ",
        "\n\t",
        "<p></p>",
        "<br/> &nbsp; ",
        "\u{0}\u{200b}",
    ] {
        assert_eq!(cleaned(raw), None, "{raw:?}");
    }
}

#[test]
fn internal_messages_are_none() {
    for raw in [
        "java.lang.NullPointerException",
        "<pre>Traceback (most recent call last):\n  File \"/app/x.py\", line 3</pre>",
        "connect ECONNREFUSED 10.0.0.5:5432",
        "ERROR: duplicate key value violates unique constraint \"users_pkey\"",
        "at Object.&lt;anonymous&gt; (index 0)",
    ] {
        assert_eq!(cleaned(raw), None, "{raw}");
    }
}

#[test]
fn long_messages_are_not_truncated() {
    let raw = "palabra ".repeat(100);
    assert_eq!(cleaned(&raw).map(|s| s.chars().count()), Some(799));
}

#[test]
fn looks_internal_is_reexported() {
    assert!(looks_internal("KeyError: 'x'"));
    assert!(!looks_internal("Trip not found"));
}

#[test]
fn hostile_inputs_stay_linear() {
    // Each would be quadratic with a naive scan; 64 KiB is what the gateway inspects.
    let n = 64 * 1024;
    let hostile = [
        "<a \"".repeat(n / 4) + ">",
        "<!".repeat(n / 2),
        "<script>".repeat(n / 8),
        "SELECT ".repeat(n / 7),
        ".".repeat(n) + "/x.py",
        "a.".repeat(n / 2),
        "&#".repeat(n / 2),
        "1.".repeat(n / 2),
        ":".repeat(n),
    ];
    let started = std::time::Instant::now();
    for text in &hostile {
        let _ = clean_message(text);
    }
    // Generous even for an unoptimised build on a busy machine; quadratic takes minutes.
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}
