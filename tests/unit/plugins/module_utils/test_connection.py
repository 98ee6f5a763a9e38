from ansible_collections.pgrepl.streaming.plugins.module_utils import connection as c


def _params(**over):
    params = {k: v.get("default") for k, v in c.connection_argument_spec().items()}
    params.update(over)
    return params


def test_kwargs_drop_empty_and_prefer_socket():
    kw = c.build_conn_kwargs(_params(login_host="db1", login_unix_socket="/run/pg"))
    assert kw["host"] == "/run/pg"
    assert "password" not in kw
    assert kw["port"] == 5432 and kw["dbname"] == "postgres" and kw["sslmode"] == "prefer"


def test_connect_params_win():
    kw = c.build_conn_kwargs(_params(login_host="db1", connect_params={"host": "db2",
                                                                       "keepalives": 1}))
    assert kw["host"] == "db2" and kw["keepalives"] == 1


def test_describe_target_never_shows_password():
    kw = c.build_conn_kwargs(_params(login_host="db1", login_password="s3cret"))
    text = c.describe_target(kw)
    assert "s3cret" not in text and text == "postgres@db1:5432/postgres"


def test_classify_error():
    assert c.classify_error('FATAL:  password authentication failed for user "x"') == \
        "authentication"
    assert c.classify_error("connection to server at \"10.0.0.1\", port 5432 failed: "
                            "Connection refused") == "connection"
    assert c.classify_error("fe_sendauth: no password supplied") == "authentication"


def test_server_major():
    assert c.server_major(150018) == 15
    assert c.server_major(170000) == 17


def test_aliases_match_community_postgresql():
    spec = c.connection_argument_spec()
    assert spec["login_user"]["aliases"] == ["login"]
    assert spec["login_host"]["aliases"] == ["host"]
    assert spec["login_unix_socket"]["aliases"] == ["unix_socket"]
    assert spec["login_port"]["aliases"] == ["port"]
    assert spec["login_db"]["aliases"] == ["db"]
    assert spec["login_password"]["no_log"] is True


def test_canonical_names_are_the_login_ones():
    spec = c.connection_argument_spec()
    assert {"login_user", "login_password", "login_host", "login_unix_socket", "login_port",
            "login_db"} <= set(spec)
    assert not {"login", "host", "unix_socket", "port", "db"} & set(spec)


def test_port_reaches_libpq_under_either_name():
    """AnsibleModule copies an alias's value to the canonical name before the module reads it."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    validator = ArgumentSpecValidator(c.connection_argument_spec())
    for name in ("login_port", "port"):
        result = validator.validate({name: 5433})
        assert not result.error_messages, result.error_messages
        assert c.build_conn_kwargs(result.validated_parameters)["port"] == 5433
