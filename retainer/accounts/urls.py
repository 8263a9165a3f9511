from django.contrib.auth import views as auth_views
from django.urls import path

from retainer.accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/link/", views.magic_link_request, name="magic_link_request"),
    path("login/link/<str:token>/", views.magic_link, name="magic_link"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("console/", views.console_home, name="console_home"),
    path("account/preferences/", views.preferences, name="preferences"),
    path("portal/", views.portal_home, name="portal_home"),
    path("account/api-tokens/", views.token_list, name="token_list"),
    path("account/api-tokens/<id:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("console/api-tokens/", views.token_admin, name="token_admin"),
    path("console/people/", views.people, name="people"),
    path("console/people/staff/new/", views.staff_new, name="staff_new"),
    path("console/people/staff/<id:pk>/", views.staff_edit, name="staff_edit"),
    path("console/people/staff/<id:pk>/active/", views.staff_active, name="staff_active"),
    path("console/people/teams/new/", views.team_new, name="team_new"),
    path("console/people/teams/<id:pk>/", views.team_edit, name="team_edit"),
]
