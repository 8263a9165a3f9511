from django.urls import path

from retainer.contracts import api

urlpatterns = [
    path("plans/", api.PlanList.as_view(), name="plan_list"),
    path("plans/<id:pk>/", api.PlanDetail.as_view(), name="plan_detail"),
    path("plans/<id:pk>/versions/", api.PlanNewVersion.as_view(), name="plan_new_version"),
    path("contracts/", api.ContractList.as_view(), name="contract_list"),
    path("contracts/<id:pk>/", api.ContractDetail.as_view(), name="contract_detail"),
    path("contracts/<id:pk>/renew/", api.ContractRenew.as_view(), name="contract_renew"),
    path("contracts/<id:pk>/cancel/", api.ContractCancel.as_view(), name="contract_cancel"),
    path("contracts/<id:pk>/top-ups/", api.ContractTopUp.as_view(), name="contract_top_up"),
    path(
        "contracts/<id:pk>/consumptions/",
        api.ContractConsume.as_view(),
        name="contract_consume",
    ),
    path("contracts/<id:pk>/reversals/", api.ContractReverse.as_view(), name="contract_reverse"),
    path("contracts/<id:pk>/balance/", api.ContractBalance.as_view(), name="contract_balance"),
    path("contracts/<id:pk>/ledger/", api.ContractLedger.as_view(), name="contract_ledger"),
    path("contracts/<id:pk>/events/", api.ContractEvents.as_view(), name="contract_events"),
    path("decisions/", api.DecisionList.as_view(), name="decision_list"),
    path("decisions/preview/", api.DecisionPreview.as_view(), name="decision_preview"),
    path("decisions/<id:pk>/", api.DecisionDetail.as_view(), name="decision_detail"),
    path(
        "decisions/<id:pk>/override/",
        api.DecisionOverride.as_view(),
        name="decision_override",
    ),
    path("training-records/", api.TrainingList.as_view(), name="training_record_list"),
]
