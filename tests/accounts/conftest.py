import pytest
from django.contrib.auth import get_user_model
from django.db import connection


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_superuser("admin", "admin@example.com", "a-long-test-password")


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def reject_inserts():
    """Make the database reject inserts into a table where a column equals a value, as a failed write.

    The trigger is created inside the test's transaction, so it is gone when the test ends.
    """

    def install(model, column: str, value: int | str) -> None:
        table = model._meta.db_table
        name = f"reject_{table}_{column}"
        literal = str(value) if isinstance(value, int) else "'" + value.replace("'", "''") + "'"
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(
                    f"CREATE TRIGGER {name} BEFORE INSERT ON {table} WHEN NEW.{column} = {literal} "
                    "BEGIN SELECT RAISE(ABORT, 'rejected by the test trigger'); END"
                )
            elif connection.vendor == "postgresql":
                cursor.execute(
                    f"CREATE FUNCTION {name}() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.{column} = {literal} THEN RAISE EXCEPTION 'rejected by the test trigger' "
                    # SQLSTATE 23000, integrity_constraint_violation, which Django raises as IntegrityError.
                    "USING ERRCODE = '23000'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
                cursor.execute(f"CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()")
            else:
                pytest.skip(f"no test trigger for {connection.vendor}")

    return install
