import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import Person
from accounts.services.people_import import PeopleImportError, import_people
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

GOOD = (
    "email,name,kind,status,left_on\n"
    "taro.yamada@example.com,Taro Yamada,employee,active,\n"
    "Hanako@Example.com,Hanako Sato,guest,left,2026-03-31\n"
)


def test_import_creates_people():
    result = import_people(file=GOOD.encode(), actor=None)

    assert result.created == 2
    hanako = Person.objects.get(email="hanako@example.com")
    assert hanako.kind == "guest"
    assert hanako.status == "left"
    assert hanako.left_on == datetime.date(2026, 3, 31)
    assert AuditEvent.objects.filter(action="person.created").count() == 2


def test_import_is_idempotent_by_email():
    import_people(file=GOOD.encode(), actor=None)
    again = import_people(file=GOOD.encode(), actor=None)

    assert again.created == 0
    assert again.unchanged == 2
    assert Person.objects.count() == 2


def test_import_matches_email_case_insensitively():
    Person.objects.create(email="taro.yamada@example.com", name="Old name")
    data = "email,name\nTARO.Yamada@EXAMPLE.com,Taro Yamada\n"

    result = import_people(file=data.encode(), actor=None)

    assert result.updated == 1
    assert Person.objects.count() == 1
    assert Person.objects.get().name == "Taro Yamada"


def test_invalid_rows_import_nothing():
    data = (
        "email,name,kind,status,left_on\n"
        "ok@example.com,OK,employee,active,\n"
        "not-an-email,Bad,employee,active,\n"
        "guest@example.com,Guest,contractor,active,\n"
        "left@example.com,Left,employee,gone,31/03/2026\n"
        "ok@example.com,Twice,employee,active,\n"
    )

    with pytest.raises(PeopleImportError) as raised:
        import_people(file=data.encode(), actor=None)

    lines = [(error.line, error.message) for error in raised.value.errors]
    assert lines[0] == (3, "The email not-an-email is not a valid email address.")
    assert lines[1] == (4, "The kind contractor is invalid: use employee or guest.")
    assert lines[2][0] == 5
    assert "status gone" in lines[2][1]
    assert lines[3][0] == 5
    assert "31/03/2026" in lines[3][1]
    assert lines[4] == (6, "The email ok@example.com is already on line 2.")
    assert Person.objects.count() == 0


def test_missing_email_column_is_rejected():
    with pytest.raises(PeopleImportError) as raised:
        import_people(file=b"name,kind\nTaro,employee\n", actor=None)

    assert raised.value.errors[0].line == 1
    assert "email,name,kind,status,left_on" in raised.value.errors[0].message


def test_excel_utf8_with_bom_is_read():
    data = "\ufeffemail,name,kind,status,left_on\r\ntaro@example.com,山田 太郎,employee,active,\r\n"

    import_people(file=data.encode("utf-8"), actor=None)

    assert Person.objects.get(email="taro@example.com").name == "山田 太郎"


def test_shift_jis_is_read():
    data = "email,name,kind,status,left_on\r\nhanako@example.com,佐藤 花子,guest,on_leave,\r\n"

    import_people(file=data.encode("shift_jis"), actor=None)

    person = Person.objects.get(email="hanako@example.com")
    assert person.name == "佐藤 花子"
    assert person.status == "on_leave"


def test_command_imports_file(tmp_path, capsys):
    path = tmp_path / "people.csv"
    path.write_bytes(GOOD.encode())

    call_command("import_people", str(path))

    assert Person.objects.count() == 2
    assert "2 created" in capsys.readouterr().out


def test_command_lists_bad_rows_and_fails(tmp_path, capsys):
    path = tmp_path / "people.csv"
    path.write_bytes(b"email,name,kind\nbad,Bad,employee\nok@example.com,OK,robot\n")

    with pytest.raises(CommandError, match="2 invalid row"):
        call_command("import_people", str(path))

    errors = capsys.readouterr().err
    assert f"{path}:2: The email bad is not a valid email address." in errors
    assert f"{path}:3: The kind robot is invalid" in errors
    assert Person.objects.count() == 0


def test_admin_page_imports_file(staff_client):
    upload = SimpleUploadedFile("people.csv", GOOD.encode(), content_type="text/csv")

    response = staff_client.post(reverse("admin:accounts_person_import"), {"file": upload}, follow=True)

    assert response.status_code == 200
    assert "2 created" in response.content.decode()
    assert Person.objects.count() == 2


def test_admin_page_lists_bad_rows(staff_client):
    upload = SimpleUploadedFile("people.csv", b"email,status\nok@example.com,active\nx@example.com,retired\n")

    response = staff_client.post(reverse("admin:accounts_person_import"), {"file": upload})

    page = response.content.decode()
    assert "Nothing was imported" in page
    assert "Line 3: The status retired is invalid" in page
    assert Person.objects.count() == 0


def test_admin_import_needs_permission(client, django_user_model):
    user = django_user_model.objects.create_user("viewer", password="a-long-test-password", is_staff=True)
    client.force_login(user)

    response = client.get(reverse("admin:accounts_person_import"))

    assert response.status_code == 403


def test_multiline_row_reported_at_first_line():
    data = 'email,name\nok@example.com,"Two\nlines"\nbad,Bad\n'

    with pytest.raises(PeopleImportError) as raised:
        import_people(file=data.encode(), actor=None)

    assert [error.line for error in raised.value.errors] == [4]


def test_repeated_column_is_rejected():
    with pytest.raises(PeopleImportError) as raised:
        import_people(file=b"email,name,email\na@example.com,A,b@example.com\n", actor=None)

    assert raised.value.errors[0].line == 1


def test_import_links_accounts_by_email():
    from tests.accounts.factories import make_account, make_integration

    integration = make_integration("Production")
    tagged = make_account(integration, "hsato", email="hanako@example.com", email_source="tag")
    unmerged = make_account(
        integration, "hanako.old", email="hanako@example.com", email_source="tag", link_decision="unmerged"
    )

    result = import_people(file=GOOD.encode(), actor=None)

    assert result.linked == 1
    tagged.refresh_from_db()
    assert tagged.person.email == "hanako@example.com"
    assert tagged.user_type == "guest"
    assert tagged.user_type_reason == "person"
    unmerged.refresh_from_db()
    assert unmerged.person is None
    assert AuditEvent.objects.filter(action="account.linked_by_email", object_id=str(tagged.pk)).count() == 1
