"""The catalog in the console: products with their releases and scope policy, and the
service offerings, listed for every staff role and written by the roles holding the
catalog permissions, through the same check functions as the API."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from retainer.accounts import actions as account_actions
from retainer.catalog import actions
from retainer.catalog.models import (
    CatalogEvent,
    Environment,
    Product,
    Release,
    ScopePolicy,
    ServiceOffering,
)
from retainer.lib.models import OutboxMessage
from retainer.lib.tests.hostile import active_content

TODAY = timezone.localdate()


@pytest.fixture
def ledger(cast) -> Product:
    product = actions.do_save_product(
        None, actor=cast.admin, name="Ledgerline", code="ledgerline",
        list_price=Decimal("50000"), net_price=Decimal("42000"), currency="EUR",
    )  # fmt: skip
    for years_ago, version in ((3, "4.0"), (2, "4.1"), (1, "5.0")):
        actions.do_save_release(
            None, actor=cast.admin, product=product, version=version,
            ga_date=TODAY - dt.timedelta(days=365 * years_ago),
        )  # fmt: skip
    return product


@pytest.fixture
def backport(cast) -> ServiceOffering:
    return actions.do_save_offering(
        None, actor=cast.admin, kind="backport", name="Backport a fix",
        price=Decimal("2400"), currency="EUR",
    )  # fmt: skip


def catalog_state() -> tuple:
    return (
        list(Product.objects.values()),
        list(Release.objects.values()),
        list(ScopePolicy.objects.values()),
        list(ServiceOffering.objects.values()),
        CatalogEvent.objects.count(),
        OutboxMessage.objects.count(),
    )


PRODUCT_FORM = {
    "name": "Atlas Gateway",
    "code": "atlas",
    "description": "",
    "list_price": "30000",
    "net_price": "27000",
    "currency": "EUR",
    "is_active": "on",
}


# --- Reading ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["agent", "billing", "manager", "admin"])
def test_every_staff_role_sees_the_catalog_lists(cast, ledger, backport, role):
    client = cast.client_for(getattr(cast, role))
    products = client.get("/console/catalog/products/")
    offerings = client.get("/console/catalog/service-offerings/")
    detail = client.get(f"/console/catalog/products/{ledger.pk}/")
    assert (products.status_code, offerings.status_code, detail.status_code) == (200, 200, 200)
    assert "Ledgerline" in products.content.decode()
    assert "5.0" in products.content.decode()  # the newest release
    assert "€2,400.00" in offerings.content.decode()  # the price in its currency
    assert '">Catalog</a>' in products.content.decode()  # the nav link


def test_customers_do_not_find_the_console_catalog(cast, ledger):
    response = cast.client_for(cast.contact).get("/console/catalog/products/")
    assert response.status_code == 404


def test_the_product_list_filters_by_name_or_code_status_and_currency(cast, ledger):
    actions.do_save_product(
        None, actor=cast.admin, name="Fieldkit SDK", code="fieldkit", currency="USD",
        is_active=False,
    )  # fmt: skip
    client = cast.client_for(cast.agent)

    def names(query: str) -> set[str]:
        page = client.get(f"/console/catalog/products/?{query}").context["page"]
        return {product.name for product in page}

    assert names("") == {"Ledgerline", "Fieldkit SDK"}
    assert names("q=FIELD") == {"Fieldkit SDK"}
    assert names("q=ledgerl") == {"Ledgerline"}
    assert names("is_active=true") == {"Ledgerline"}
    assert names("is_active=false") == {"Fieldkit SDK"}
    assert names("currency=USD") == {"Fieldkit SDK"}


def test_the_offering_list_filters_by_kind_product_and_status(cast, ledger, backport):
    actions.do_save_offering(
        None, actor=cast.admin, kind="training", name="Ledgerline training", product=ledger,
        price=Decimal("180"), unit="per_hour", currency="CHF",
    )  # fmt: skip
    client = cast.client_for(cast.billing)

    def names(query: str) -> set[str]:
        page = client.get(f"/console/catalog/service-offerings/?{query}").context["page"]
        return {offering.name for offering in page}

    assert names("kind=training") == {"Ledgerline training"}
    assert names(f"product={ledger.pk}") == {"Ledgerline training"}
    assert names("product=general") == {"Backport a fix"}
    assert names("product=nonsense") == set()
    assert names("q=backport&is_active=true") == {"Backport a fix"}
    html = client.get("/console/catalog/service-offerings/").content.decode()
    assert "CHF 180.00" in html and "per hour" in html


def test_the_lists_run_a_fixed_number_of_queries(cast, django_assert_max_num_queries):
    for n in range(30):
        product = actions.do_save_product(None, actor=cast.admin, name=f"P{n}", code=f"p{n}")
        actions.do_save_release(
            None, actor=cast.admin, product=product, version="1.0", ga_date=TODAY
        )
        actions.do_save_offering(
            None, actor=cast.admin, kind="porting", name=f"O{n}", product=product, price=1
        )
    client = cast.client_for(cast.agent)
    client.get("/console/catalog/products/")  # the session, once
    with django_assert_max_num_queries(8):
        client.get("/console/catalog/products/")
    with django_assert_max_num_queries(9):
        client.get("/console/catalog/service-offerings/")


def test_the_product_page_shows_which_releases_are_in_scope_today(cast, ledger):
    actions.do_save_scope_policy(
        None, actor=cast.admin, product=ledger, supported_previous_releases=1
    )
    html = cast.client_for(cast.agent).get(f"/console/catalog/products/{ledger.pk}/")
    page = html.content.decode()
    assert page.count("supported</span>") == 2 and page.count("out of scope</span>") == 1
    assert "The current release and the 1 previous release" in page


# --- Writing ---------------------------------------------------------------------------------


def test_a_manager_creates_a_product_and_the_change_is_recorded(cast):
    response = cast.client_for(cast.manager).post("/console/catalog/products/new/", PRODUCT_FORM)
    product = Product.objects.get(code="atlas")
    assert response.status_code == 302
    assert response["Location"] == f"/console/catalog/products/{product.pk}/"
    assert (product.name, product.list_price, product.currency) == (
        "Atlas Gateway",
        Decimal(30000),
        "EUR",
    )
    event = CatalogEvent.objects.get(product=product)
    assert (event.type, event.actor) == ("product_saved", cast.manager)


def test_a_manager_edits_a_product_and_can_deactivate_it(cast, ledger):
    client = cast.client_for(cast.manager)
    form = client.get(f"/console/catalog/products/{ledger.pk}/edit/").context["form"]
    assert form.initial["code"] == "ledgerline"
    values = {**PRODUCT_FORM, "name": "Ledgerline Server", "code": "ledgerline"}
    del values["is_active"]  # an unticked box
    response = client.post(f"/console/catalog/products/{ledger.pk}/edit/", values)
    assert response.status_code == 302
    ledger.refresh_from_db()
    assert (ledger.name, ledger.is_active) == ("Ledgerline Server", False)
    assert (
        "Ledgerline Server" not in cast.client_for(None).get("/scope-of-support/").content.decode()
    )


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"code": "Not A Code"}, "code", "Use lower-case letters, digits and dashes."),
        ({"list_price": "-5"}, "list_price", "The amount cannot be negative."),
        ({"name": "ledgerline"}, "__all__", "A product with this name already exists."),
        ({"name": ""}, "name", "This field is required."),
        ({"list_price": "ten"}, "list_price", "Enter a number."),
    ],
)
def test_a_refused_product_is_shown_again_with_the_error_beside_its_field(
    cast, ledger, change, field, message
):
    before = catalog_state()
    response = cast.client_for(cast.manager).post(
        "/console/catalog/products/new/", {**PRODUCT_FORM, **change}
    )
    assert response.status_code == 400
    assert message in response.context["form"].errors[field]
    assert message in response.content.decode()
    assert catalog_state() == before


def test_the_console_and_the_api_refuse_a_duplicate_name_with_the_same_message(cast, ledger):
    client = cast.client_for(cast.manager)
    console = client.post("/console/catalog/products/new/", {**PRODUCT_FORM, "name": "LEDGERLINE"})
    api = client.post(
        "/api/v1/products/",
        {"name": "LEDGERLINE", "code": "atlas"},
        content_type="application/json",
    )
    message = "A product with this name already exists."
    assert console.status_code == api.status_code == 400
    assert message in console.context["form"].non_field_errors()
    assert message in str(api.json())


def test_a_manager_adds_a_release_on_top_and_edits_its_end_of_support(cast, ledger):
    client = cast.client_for(cast.manager)
    response = client.post(
        f"/console/catalog/products/{ledger.pk}/releases/new/",
        {"version": "5.1", "ga_date": TODAY.isoformat()},
    )
    assert response.status_code == 302
    release = Release.objects.get(product=ledger, version="5.1")
    assert release.order == 4
    eos = TODAY + dt.timedelta(days=700)
    response = client.post(
        f"/console/catalog/releases/{release.pk}/edit/",
        {"version": "5.1", "order": "", "ga_date": TODAY.isoformat(), "end_of_support_date": eos},
    )
    assert response.status_code == 302
    release.refresh_from_db()
    assert (release.order, release.end_of_support_date) == (4, eos)
    page = client.get(f"/console/catalog/products/{ledger.pk}/").content.decode()
    assert eos.isoformat() in page


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        (
            {"version": "4.5", "ga_date": TODAY.isoformat()},
            "version",
            "Version 4.5 must be higher than 5.0, the release ordered before it.",
        ),
        (
            {"version": "6.0", "ga_date": "2001-01-01"},
            "ga_date",
            "GA date is before that of the earlier release 5.0.",
        ),
        (
            {"version": "6.0", "ga_date": TODAY.isoformat(), "end_of_support_date": "2001-01-01"},
            "__all__",
            "End of support cannot be before the GA date.",
        ),
        ({"version": "six", "ga_date": TODAY.isoformat()}, "version", "Enter a version such as"),
        ({"version": "6.0", "ga_date": "yesterday"}, "ga_date", "Enter a valid date."),
    ],
)
def test_a_refused_release_is_shown_again_with_the_error(cast, ledger, values, field, message):
    before = catalog_state()
    response = cast.client_for(cast.manager).post(
        f"/console/catalog/products/{ledger.pk}/releases/new/", values
    )
    assert response.status_code == 400
    assert any(message in error for error in response.context["form"].errors[field])
    assert catalog_state() == before


def test_a_published_scope_policy_shows_on_the_public_page(cast, ledger, backport):
    ubuntu = actions.do_save_environment(None, actor=cast.admin, name="Ubuntu", version="24.04")
    actions.do_save_environment(None, actor=cast.admin, name="Solaris", version="11")
    client = cast.client_for(cast.manager)
    form = client.get(f"/console/catalog/products/{ledger.pk}/scope-policy/").context["form"]
    assert form.initial["supported_previous_releases"] == 2  # the model's default
    response = client.post(
        f"/console/catalog/products/{ledger.pk}/scope-policy/",
        {
            "supported_previous_releases": "0",
            "honour_end_of_support_dates": "on",
            "supported_environments": [ubuntu.pk],
            "third_party_supported": "on",
            "notes": "Only the current release.",
        },
    )
    assert response.status_code == 302
    policy = ScopePolicy.objects.get(product=ledger)
    assert list(policy.supported_environments.all()) == [ubuntu]
    public = cast.client_for(None).get("/scope-of-support/").content.decode()
    assert "The current release and the 0 previous releases" in public
    assert "Ubuntu 24.04" in public and "Solaris" not in public
    assert "Only the current release." in public
    assert "€2,400.00" in public


def test_a_scope_policy_without_any_release_rule_is_refused(cast, ledger):
    response = cast.client_for(cast.manager).post(
        f"/console/catalog/products/{ledger.pk}/scope-policy/",
        {"supported_previous_releases": "", "notes": "No rule"},
    )
    assert response.status_code == 400
    assert "Choose at least one release rule" in str(response.context["form"].non_field_errors())
    assert not ScopePolicy.objects.exists()


def test_a_manager_creates_edits_and_withdraws_an_offering(cast, ledger):
    client = cast.client_for(cast.manager)
    values = {
        "kind": "migration", "name": "Upgrade and migration", "product": ledger.pk,
        "price": "165", "currency": "GBP", "unit": "per_hour", "is_active": "on",
    }  # fmt: skip
    assert client.post("/console/catalog/service-offerings/new/", values).status_code == 302
    offering = ServiceOffering.objects.get()
    assert (offering.price, offering.currency, offering.product) == (Decimal(165), "GBP", ledger)
    values.update(price="170", product="")
    edited = client.post(f"/console/catalog/service-offerings/{offering.pk}/edit/", values)
    assert edited.status_code == 302
    offering.refresh_from_db()
    assert (offering.price, offering.product) == (Decimal(170), None)
    assert "£170.00" in cast.client_for(None).get("/scope-of-support/").content.decode()

    client.post(f"/console/catalog/service-offerings/{offering.pk}/active/", {"active": "false"})
    offering.refresh_from_db()
    assert not offering.is_active
    assert (
        "Upgrade and migration"
        not in cast.client_for(None).get("/scope-of-support/").content.decode()
    )
    client.post(f"/console/catalog/service-offerings/{offering.pk}/active/", {"active": "true"})
    offering.refresh_from_db()
    assert offering.is_active


def test_a_negative_price_is_refused_beside_the_price(cast):
    response = cast.client_for(cast.manager).post(
        "/console/catalog/service-offerings/new/",
        {"kind": "porting", "name": "Port", "price": "-1", "currency": "EUR", "unit": "fixed"},
    )
    assert response.status_code == 400
    assert "The amount cannot be negative." in response.context["form"].errors["price"]
    assert not ServiceOffering.objects.exists()


def test_the_withdraw_button_without_a_choice_changes_nothing(cast, backport):
    response = cast.client_for(cast.manager).post(
        f"/console/catalog/service-offerings/{backport.pk}/active/", {}, follow=True
    )
    assert response.status_code == 200
    backport.refresh_from_db()
    assert backport.is_active


# --- Refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["agent", "billing"])
def test_a_role_that_may_not_write_gets_403_everywhere_and_no_edit_buttons(
    cast, ledger, backport, role
):
    client = cast.client_for(getattr(cast, role))
    release = ledger.releases.first()
    before = catalog_state()
    writes = [
        ("/console/catalog/products/new/", PRODUCT_FORM),
        (f"/console/catalog/products/{ledger.pk}/edit/", PRODUCT_FORM),
        (f"/console/catalog/products/{ledger.pk}/releases/new/", {"version": "9.0"}),
        (f"/console/catalog/releases/{release.pk}/edit/", {"version": "4.0"}),
        (f"/console/catalog/products/{ledger.pk}/scope-policy/", {"notes": "x"}),
        ("/console/catalog/service-offerings/new/", {"name": "x"}),
        (f"/console/catalog/service-offerings/{backport.pk}/edit/", {"name": "x"}),
        (f"/console/catalog/service-offerings/{backport.pk}/active/", {"active": "false"}),
    ]
    for url, data in writes:
        assert client.post(url, data).status_code == 403, url
        if not url.endswith("/active/"):
            assert client.get(url).status_code == 403, url
    assert catalog_state() == before
    pages = [
        client.get("/console/catalog/products/").content.decode(),
        client.get(f"/console/catalog/products/{ledger.pk}/").content.decode(),
        client.get("/console/catalog/service-offerings/").content.decode(),
    ]
    for page in pages:
        for button in ("New product", "Edit product", "New release", "Edit scope", "Publish a",
                       "New service offering", "Withdraw", "/edit/"):  # fmt: skip
            assert button not in page


def test_a_manager_sees_the_edit_buttons(cast, ledger, backport):
    client = cast.client_for(cast.manager)
    detail = client.get(f"/console/catalog/products/{ledger.pk}/").content.decode()
    offerings = client.get("/console/catalog/service-offerings/").content.decode()
    for button in ("Edit product", "New release", "Publish a scope of support"):
        assert button in detail
    assert "Withdraw" in offerings and f"/service-offerings/{backport.pk}/edit/" in offerings


def staff_without(cast, missing: str):
    """A staff member holding every catalog permission but ``missing``."""
    user = account_actions.do_create_staff_user(
        email=f"without-{missing.split('.')[1].replace('_', '-')}@vendor.test",
        full_name="Partial", roles=[], actor=None,
    )  # fmt: skip
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="catalog").exclude(
            codename=missing.split(".")[1]
        )
    )
    return cast.client_for(user)


@pytest.mark.parametrize(
    ("missing", "console", "api"),
    [
        ("catalog.add_product", ("post", "products/new/"), ("post", "products/")),
        ("catalog.change_product", ("post", "products/{p}/edit/"), ("patch", "products/{p}/")),
        ("catalog.add_release", ("post", "products/{p}/releases/new/"), ("post", "products/{p}/releases/")),
        ("catalog.change_release", ("post", "releases/{r}/edit/"), ("patch", "releases/{r}/")),
        ("catalog.add_scopepolicy", ("post", "products/{p}/scope-policy/"), ("put", "products/{p}/scope-policy/")),
        ("catalog.change_scopepolicy", ("post", "products/{p}/scope-policy/"), ("put", "products/{p}/scope-policy/")),
        ("catalog.add_serviceoffering", ("post", "service-offerings/new/"), ("post", "service-offerings/")),
        ("catalog.change_serviceoffering", ("post", "service-offerings/{o}/edit/"), ("patch", "service-offerings/{o}/")),
        ("catalog.change_serviceoffering", ("post", "service-offerings/{o}/active/"), ("patch", "service-offerings/{o}/")),
    ],
)  # fmt: skip
def test_the_console_and_the_api_need_the_same_permission(
    cast, ledger, backport, missing, console, api
):
    ids = {"p": ledger.pk, "r": ledger.releases.first().pk, "o": backport.pk}
    client = staff_without(cast, missing)
    before = catalog_state()
    method, path = console
    console_answer = getattr(client, method)(f"/console/catalog/{path.format(**ids)}", {})
    method, path = api
    api_answer = getattr(client, method)(
        f"/api/v1/{path.format(**ids)}", {}, content_type="application/json"
    )
    assert (console_answer.status_code, api_answer.status_code) == (403, 403)
    assert catalog_state() == before


@pytest.mark.parametrize(
    "payload", ["<script>alert(1)</script>", '<img src=x onerror="alert(1)">', "\u202eevil"]
)
def test_hostile_catalog_text_is_inert_in_the_console(cast, payload):
    """Names, descriptions and notes typed into the console's forms show as the text typed
    (bidi controls removed): the pages hold exactly the active parts of harmless ones."""
    client = cast.client_for(cast.manager)

    def pages(text: str, code: str) -> list[str]:
        client.post(
            "/console/catalog/products/new/",
            {**PRODUCT_FORM, "name": f"{text} {code}", "code": code, "description": text},
        )
        product = Product.objects.get(code=code)
        offering = {"kind": "porting", "name": f"{text} {code}", "description": text}
        offering.update(product=str(product.pk), price="1", currency="EUR", unit="fixed")
        client.post("/console/catalog/service-offerings/new/", offering)
        policy = {"supported_previous_releases": "1", "notes": text}
        client.post(f"/console/catalog/products/{product.pk}/scope-policy/", policy)
        assert ServiceOffering.objects.filter(product=product).exists()
        assert ScopePolicy.objects.filter(product=product).exists()
        return [
            client.get(f"/console/catalog/products/?q={code}").content.decode(),
            client.get(f"/console/catalog/products/{product.pk}/").content.decode(),
            client.get(
                f"/console/catalog/service-offerings/?product={product.pk}"
            ).content.decode(),
            client.get(f"/console/catalog/products/{product.pk}/edit/").content.decode(),
        ]

    for harmless, hostile in zip(pages("Plain", "plain"), pages(payload, "bad"), strict=True):
        assert Counter(active_content(hostile)) == Counter(active_content(harmless))


def test_an_unknown_product_is_a_404(cast):
    client = cast.client_for(cast.manager)
    assert client.get("/console/catalog/products/999999/").status_code == 404
    assert client.get("/console/catalog/products/999999/edit/").status_code == 404
    assert client.post("/console/catalog/service-offerings/999999/active/").status_code == 404


def test_environments_listed_in_the_policy_form_are_every_environment(cast, ledger):
    actions.do_save_environment(None, actor=cast.admin, name="AWS")
    form = (
        cast.client_for(cast.admin)
        .get(f"/console/catalog/products/{ledger.pk}/scope-policy/")
        .context["form"]
    )
    assert list(form.fields["supported_environments"].queryset) == list(Environment.objects.all())
