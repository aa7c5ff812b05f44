// ACL and CORS scenarios, shared by s3-blocking and s3-async (see objects.rs for the prelude
// each client's test file defines before including this one).

use s3::proto::acl::{Grantee, Group, Permission};
use s3::proto::cors::{CorsConfiguration, CorsMethod, CorsRule, Dialect};
use s3::proto::CannedAcl;

/// Status of an anonymous GET, by a plain HTTP client.
fn anonymous_get(server: &test_support::Server, bucket: &str, key: &str) -> u16 {
    let url = format!("{}/{bucket}/{key}", server.endpoint);
    ureq::Agent::new_with_defaults()
        .get(url)
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .expect("anonymous GET")
        .status()
        .as_u16()
}

scenario_fn! { canned_acls_read_back(server) {
    if !server.caps.acl {
        return;
    }
    let c = client(server);
    let b = x!(temp_bucket(&c, "canned"));
    x!(b.put_string("k", "v")).unwrap();
    for (acl, group, permission) in [
        (CannedAcl::Private, None, None),
        (CannedAcl::PublicRead, Some(Group::AllUsers), Some(Permission::Read)),
        (CannedAcl::PublicReadWrite, Some(Group::AllUsers), Some(Permission::Write)),
        (CannedAcl::AuthenticatedRead, Some(Group::AuthenticatedUsers), Some(Permission::Read)),
    ] {
        x!(b.set_acl(acl)).unwrap_or_else(|e| panic!("bucket {acl}: {e}"));
        let policy = x!(b.acl()).unwrap();
        assert!(
            policy.grants.iter().any(|g| g.permission == Permission::FullControl
                && matches!(&g.grantee, Grantee::CanonicalUser { id, .. } if *id == policy.owner.id)),
            "{acl}: owner keeps FULL_CONTROL: {policy:?}"
        );
        let has_group = |p: &Permission, g: &Group| {
            policy
                .grants
                .iter()
                .any(|x| &x.permission == p && x.grantee == Grantee::Group(g.clone()))
        };
        match (&group, &permission) {
            (Some(g), Some(p)) if acl == CannedAcl::PublicReadWrite && !server.caps.full_canned_acls => {
                assert!(has_group(&Permission::Read, g), "{acl}: {policy:?}");
                let _ = p;
            }
            (Some(g), Some(p)) => assert!(has_group(p, g), "{acl}: {policy:?}"),
            _ => assert_eq!(policy.grants.len(), 1, "{acl}: {policy:?}"),
        }
        if acl == CannedAcl::PublicReadWrite {
            continue; // not meaningful on objects
        }
        x!(b.set_key_acl("k", acl)).unwrap_or_else(|e| panic!("key {acl}: {e}"));
        let key_policy = x!(b.key_acl("k")).unwrap();
        if let (Some(g), Some(p)) = (&group, &permission) {
            assert!(
                key_policy.grants.iter().any(|x| &x.permission == p && x.grantee == Grantee::Group(g.clone())),
                "key {acl}: {key_policy:?}"
            );
        }
    }
    x!(cleanup(&b));
}}

scenario_fn! { acls_are_enforced(server) {
    if !server.caps.acl_enforced {
        return;
    }
    let c = client(server);
    let b = x!(temp_bucket(&c, "enforced"));
    let name = b.name().to_string();
    x!(b.put_string("public", "for everyone")).unwrap();
    x!(b.put_string("private", "for me")).unwrap();
    x!(b.set_key_acl("public", CannedAcl::PublicRead)).unwrap();
    assert_eq!(anonymous_get(server, &name, "public"), 200);
    assert_eq!(anonymous_get(server, &name, "private"), 403);

    // The second user cannot read until granted, by canonical id or by email.
    let user2 = server.user2.as_ref().expect("ceph has a second user");
    let other = Client::new(server.config(), server.user2_credentials());
    let theirs = other.bucket(&name).unwrap();
    let err = x!(theirs.get_string("private")).unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::AccessDenied), "{err}");
    x!(b.add_key_user_grant("private", Permission::Read, &user2.id)).unwrap();
    assert_eq!(x!(theirs.get_string("private")).unwrap().as_deref(), Some("for me"));

    x!(b.put_string("by-email", "granted by email")).unwrap();
    assert!(x!(theirs.get_string("by-email")).is_err());
    x!(b.add_key_email_grant("by-email", Permission::Read, &user2.email)).unwrap();
    assert_eq!(
        x!(theirs.get_string("by-email")).unwrap().as_deref(),
        Some("granted by email")
    );
    let policy = x!(b.key_acl("by-email")).unwrap();
    assert!(
        policy.grants.iter().any(|g| g.permission == Permission::Read
            && matches!(&g.grantee, Grantee::CanonicalUser { id, .. } if *id == user2.id)),
        "the email grant resolves to the user: {policy:?}"
    );
    // Adding the same grant again changes nothing (by id: the server stores an email grant as
    // the user it resolves to, so an email cannot be matched against it).
    x!(b.add_key_user_grant("by-email", Permission::Read, &user2.id)).unwrap();
    assert_eq!(x!(b.key_acl("by-email")).unwrap().grants.len(), policy.grants.len());

    // Bucket-level grant: the second user may list.
    assert!(x!(theirs.list_all("", None)).is_err());
    x!(b.add_user_grant(Permission::Read, &user2.id)).unwrap();
    assert_eq!(x!(theirs.list_all("", None)).unwrap().len(), 3);
    x!(cleanup(&b));
}}

scenario_fn! { cors_set_get_delete(server) {
    if !server.caps.cors {
        return;
    }
    let c = client(server);
    let b = x!(temp_bucket(&c, "cors"));
    assert_eq!(x!(b.cors()).unwrap(), None);
    let config = CorsConfiguration::new()
        .rule(
            CorsRule::new([CorsMethod::Put, CorsMethod::Post, CorsMethod::Delete], ["http://www.example.com"])
                .id("uploads")
                .allowed_header("*")
                .max_age_seconds(3000)
                .expose_header("x-amz-server-side-encryption")
                .expose_header("x-amz-request-id"),
        )
        .rule(CorsRule::new([CorsMethod::Get], ["*"]));
    x!(b.set_cors(&config)).unwrap();
    let back = x!(b.cors()).unwrap().unwrap();
    assert_eq!(back.rules.len(), 2);
    assert_eq!(back.rules[0].id.as_deref(), Some("uploads"));
    assert_eq!(back.rules[0].max_age_seconds, Some(3000));
    assert_eq!(back.rules[0].allowed_origins, ["http://www.example.com"]);
    let mut methods = back.rules[0].allowed_methods.clone();
    methods.sort_by_key(|m| m.as_str());
    assert_eq!(methods, [CorsMethod::Delete, CorsMethod::Post, CorsMethod::Put]);
    assert_eq!(back.rules[1].allowed_methods, [CorsMethod::Get]);
    x!(b.delete_cors()).unwrap();
    assert_eq!(x!(b.cors()).unwrap(), None);
    x!(cleanup(&b));
}}

scenario_fn! { preflight_matches_the_evaluator(server) {
    if !server.caps.preflight {
        return;
    }
    let c = client(server);
    let b = x!(temp_bucket(&c, "preflight"));
    let config = CorsConfiguration::new()
        .rule(
            CorsRule::new([CorsMethod::Put, CorsMethod::Post, CorsMethod::Delete], ["http://www.example.com"])
                .allowed_header("*")
                .max_age_seconds(3000)
                .expose_header("x-amz-server-side-encryption")
                .expose_header("x-amz-request-id"),
        )
        .rule(CorsRule::new([CorsMethod::Get], ["*"]))
        .rule(
            CorsRule::new([CorsMethod::Get, CorsMethod::Head], ["http://*.example.org"])
                .allowed_header("x-amz-*")
                .allowed_header("Content-Type"),
        );
    x!(b.set_cors(&config)).unwrap();
    let url = format!("{}/{}/some/key", server.endpoint, b.name());
    let cases: &[(&str, &str, &str)] = &[
        ("http://www.example.com", "PUT", "x-custom, content-type"),
        ("http://www.example.com", "DELETE", ""),
        ("http://any.example.net", "GET", ""),
        ("http://a.example.org", "GET", ""),
        ("http://a.example.org", "HEAD", ""),
        ("http://www.example.com", "GET", ""),
        ("http://any.example.net", "PUT", ""),
        ("http://any.example.net", "GET", "x-amz-date"),
    ];
    let agent = ureq::Agent::new_with_defaults();
    for (origin, method, headers) in cases {
        let mut req = agent
            .options(&url)
            .config()
            .http_status_as_error(false)
            .build()
            .header("Origin", *origin)
            .header("Access-Control-Request-Method", *method);
        if !headers.is_empty() {
            req = req.header("Access-Control-Request-Headers", *headers);
        }
        let resp = req.call().unwrap();
        let expected = config.preflight_as(Dialect::CephRgw, origin, method, &[headers]);
        let case = format!("{origin} {method} [{headers}]");
        match expected {
            Ok(answer) => {
                assert_eq!(resp.status().as_u16(), 200, "{case}");
                for (name, value) in answer.headers() {
                    let got = resp.headers().get(name).and_then(|v| v.to_str().ok());
                    assert_eq!(got, Some(value.as_str()), "{case}: {name}");
                }
            }
            Err(reason) => assert_eq!(resp.status().as_u16(), 403, "{case}: expected refusal ({reason})"),
        }
    }
    x!(cleanup(&b));
}}
