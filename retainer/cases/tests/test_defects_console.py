"""Defects in the console: the filtered list, a new defect, one defect with its cases,
linking a case by its reference, and the fix release that every linked case then shows."""

from __future__ import annotations

import pytest
from django.urls import reverse

from retainer.cases import actions
from retainer.cases.choices import DefectStatus
from retainer.cases.models import Case, CaseEvent, Defect
from retainer.catalog import actions as catalog_actions
from retainer.lib.tests.hostile import PAYLOADS, active_content


def _open(cast, product, subject: str = "Crash") -> Case:
    return actions.check_open_case(
        cast.contact.user, contact=cast.contact, product=product, subject=subject,
        description="It crashes.", channel="web",
    )  # fmt: skip


@pytest.fixture
def defect(cast, desk) -> Defect:
    return actions.check_create_defect(
        cast.agent,
        product=desk.product,
        title="Posting job stops",
        affected_releases=desk.releases[-2:],
    )


def test_the_list_filters_by_status_product_and_search(cast, desk, defect):
    other = actions.check_create_defect(cast.agent, product=desk.other, title="Sync loses rows")
    actions.check_set_defect_fix_release(cast.agent, defect, release=desk.current)
    client = cast.client_for(cast.billing)  # every staff role reads
    url = reverse("console:defect_list")

    def listed(**query: object) -> str:
        response = client.get(url, query)
        assert response.status_code == 200
        return response.content.decode()

    assert "Posting job stops" in listed() and "Sync loses rows" in listed()
    assert "Sync loses rows" not in listed(status=DefectStatus.FIXED)
    assert "Posting job stops" not in listed(product=desk.other.pk)
    assert "Posting job stops" not in listed(q="sync")
    assert "Sync loses rows" in listed(q=f"DEF-{other.pk}")
    assert "No defect matches." in listed(status="nonsense")


def test_the_list_runs_a_fixed_number_of_queries(cast, desk, django_assert_max_num_queries):
    for n in range(30):
        defect = actions.check_create_defect(cast.agent, product=desk.product, title=f"Bug {n}")
        actions.check_link_defect(cast.agent, _open(cast, desk.product), defect)
    client = cast.client_for(cast.agent)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("console:defect_list")).status_code == 200


def test_an_agent_records_a_defect(cast, desk):
    response = cast.client_for(cast.agent).post(
        reverse("console:defect_new"),
        {
            "product": desk.product.pk,
            "title": "  Export misses totals ",
            "description": "Since 5.0",
            "affected_releases": [desk.current.pk],
        },
    )
    defect = Defect.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("console:defect_detail", kwargs={"pk": defect.pk})
    assert (defect.title, defect.created_by) == ("Export misses totals", cast.agent)
    assert list(defect.affected_releases.all()) == [desk.current]


def test_an_affected_release_of_another_product_is_refused_beside_it(cast, desk):
    other_release = catalog_actions.do_save_release(
        None, actor=cast.admin, product=desk.other, version="9.0", ga_date=desk.current.ga_date
    )
    response = cast.client_for(cast.agent).post(
        reverse("console:defect_new"),
        {"product": desk.product.pk, "title": "Bug", "affected_releases": [other_release.pk]},
    )
    assert response.status_code == 400
    assert (
        "belong to the defect's product" in response.context["form"].errors["affected_releases"][0]
    )
    assert not Defect.objects.exists()


def test_billing_may_read_defects_but_not_record_or_fix_them(cast, desk, defect):
    client = cast.client_for(cast.billing)
    assert client.get(reverse("console:defect_detail", kwargs={"pk": defect.pk})).status_code == 200
    assert client.get(reverse("console:defect_new")).status_code == 403
    response = client.post(
        reverse("console:defect_new"), {"product": desk.product.pk, "title": "X"}
    )
    assert response.status_code == 403
    fix = reverse("console:defect_fix", kwargs={"pk": defect.pk})
    assert client.post(fix, {"release": desk.current.pk}).status_code == 403
    defect.refresh_from_db()
    assert defect.fix_release is None and Defect.objects.count() == 1


def test_an_agent_links_a_case_by_reference_and_marks_the_defect_fixed(cast, desk, defect):
    case = _open(cast, desk.product)
    client = cast.client_for(cast.agent)
    detail = reverse("console:defect_detail", kwargs={"pk": defect.pk})
    link = reverse("console:defect_link", kwargs={"pk": defect.pk})
    response = client.post(link, {"reference": case.reference.lower()}, follow=True)
    assert f"{case.reference} linked." in response.content.decode()
    case.refresh_from_db()
    assert case.defect == defect
    assert case.reference in client.get(detail).content.decode()

    fix = reverse("console:defect_fix", kwargs={"pk": defect.pk})
    response = client.post(fix, {"release": desk.current.pk}, follow=True)
    assert "Fixed in 5.0: 1 requester(s)" in response.content.decode()
    defect.refresh_from_db()
    assert (defect.status, defect.fix_release) == (DefectStatus.FIXED, desk.current)
    assert CaseEvent.objects.filter(case=case, type="fix_available").count() == 1
    page = client.get(reverse("console:case_page", kwargs={"public_id": case.public_id}))
    assert "fixed in 5.0" in page.content.decode()


def test_linking_an_unknown_case_or_one_of_another_product_is_refused(cast, desk, defect):
    client = cast.client_for(cast.agent)
    link = reverse("console:defect_link", kwargs={"pk": defect.pk})
    response = client.post(link, {"reference": "RT-99999999"}, follow=True)
    assert "No case has this reference." in response.content.decode()
    response = client.post(link, {"reference": "case 12"}, follow=True)
    assert "for example RT-10234" in response.content.decode()
    other = _open(cast, desk.other)
    response = client.post(link, {"reference": other.reference}, follow=True)
    assert "belongs to another product" in response.content.decode()
    assert not Case.objects.filter(defect=defect).exists()


def test_a_fix_release_of_another_product_is_not_offered_nor_taken(cast, desk, defect):
    other_release = catalog_actions.do_save_release(
        None, actor=cast.admin, product=desk.other, version="9.0", ga_date=desk.current.ga_date
    )
    client = cast.client_for(cast.agent)
    page = client.get(reverse("console:defect_detail", kwargs={"pk": defect.pk})).content.decode()
    assert "9.0" not in page
    fix = reverse("console:defect_fix", kwargs={"pk": defect.pk})
    client.post(fix, {"release": other_release.pk})
    defect.refresh_from_db()
    assert defect.fix_release is None


def test_customers_never_see_the_defect_pages(cast, defect):
    client = cast.client_for(cast.customer_admin)
    assert client.get(reverse("console:defect_list")).status_code == 404
    assert client.get(reverse("console:defect_detail", kwargs={"pk": defect.pk})).status_code == 404


@pytest.mark.parametrize("payload", PAYLOADS[::4])
def test_titles_and_descriptions_show_as_the_text_typed(cast, desk, payload):
    client = cast.client_for(cast.agent)

    def pages(text: str) -> list[str]:
        response = client.post(
            reverse("console:defect_new"),
            {"product": desk.product.pk, "title": text, "description": text},
        )
        assert response.status_code == 302, response.content
        return [
            client.get(response["Location"]).content.decode(),
            client.get(reverse("console:defect_list"), {"q": text[:20]}).content.decode(),
        ]

    for harmless, hostile in zip(pages("Plain"), pages(payload), strict=True):
        assert active_content(hostile) == active_content(harmless)
