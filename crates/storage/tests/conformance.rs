//! One suite, run on both engines: each check is written once as `async fn name(s: Storage)`
//! and `conformance!` runs it as `sqlite::name` and `postgres::name`.
//! The PostgreSQL half needs `MARKETBRIDGE_TEST_POSTGRES_URL` and fails without it.

use std::collections::HashSet;
use std::time::Duration;

use domain::catalog::{ChannelOverrides, ProductIdType, ProductMapping, ProductSettings};
use domain::{
    ChannelId, ChannelKind, ChannelStatus, DisconnectChoice, DisconnectStatus, Email, InstanceUrl,
    ItemState, JobId, ShopConnection, ShopHealth, ShopId, ShopPlatform, StoreId, SyncRunStatus,
    UserId, WorkspaceId,
};
use serde_json::json;
use storage::account::{LOCKOUT_MS, MAX_FAILED_LOGINS};
use storage::testing::RawPool;
use storage::{
    AttentionReason, AttentionSubject, DeadJobDrop, DeadJobRetry, DeadJobsFilter, DeadJobsRetried,
    FlowQueue,
};
use storage::{
    BudgetDecision, CatalogRow, ChannelItem, Engine, ImportOutcome, ImportOutcomeCounts,
    IncomingWebhook, Job, JobFailure, JobStatus, Ledger, LoginAttempt, NewChannel, NewJob,
    NewPendingAuthorization, NewPendingShopAuthorization, NewShop, PendingLookup,
    PendingShopLookup, ProductView, ProductsFilter, RefreshOutcome, RegisteredWebhook, Secret,
    ShopChange, Storage, StorageError, TokenSet, WebhookCounts, WebhookRecord, WipeCounts,
    WorkspaceSettings, backoff_ms,
};
use storage::{OrderCounts, OrderUpsert, OrdersFilter, StepReservation};
use uuid::Uuid;

macro_rules! conformance {
    ($($check:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $check() {
                    super::$check(storage::testing::fresh_storage(storage::Engine::Sqlite).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $check() {
                    super::$check(storage::testing::fresh_storage(storage::Engine::Postgres).await).await;
                }
            )*
        }
    };
}

conformance!(
    an_account_is_created_once_per_email,
    a_signed_payload_signs_in_once_even_when_requests_race,
    a_bigcommerce_store_is_found_with_its_workspace_owner_and_an_uninstall_is_remembered,
    an_export_finds_the_items_changed_since_its_cursor,
    a_changed_product_is_read_once_and_a_later_change_is_kept,
    five_failed_logins_lock_the_account,
    concurrent_sign_ins_reserve_at_most_the_limit,
    a_nul_in_a_text_is_the_callers_error_not_a_database_failure,
    an_order_is_stored_once_and_a_newer_one_replaces_it,
    an_order_step_is_reserved_once_by_racing_workers,
    acceptances_reserved_on_one_sequence_hold_stock_until_the_shop_has_the_order,
    orders_are_listed_filtered_counted_and_kept_apart,
    orders_are_filtered_by_states_found_by_id_and_counted_by_state,
    sessions_expire_and_can_be_deleted,
    api_tokens_are_found_by_hash_until_revoked_and_kept_apart,
    channels_are_only_seen_from_their_workspace,
    channel_updates_are_scoped_by_workspace,
    deleting_a_channel_removes_its_tokens_and_pending_authorizations,
    a_pending_authorization_is_taken_once,
    tokens_are_stored_sealed,
    tokens_of_another_workspace_are_not_found,
    the_refresh_lease_has_one_owner_at_a_time,
    a_failed_refresh_can_require_reauthorization,
    channels_due_for_refresh_are_authorized_unlocked_and_expiring,
    a_claimed_job_runs_under_a_lease,
    an_expired_lease_is_reaped_and_claimed_again,
    failures_back_off_then_dead_letter,
    a_job_that_cannot_run_is_buried_at_once,
    a_released_job_waits_without_spending_an_attempt,
    a_dedupe_key_admits_one_live_job,
    one_job_runs_per_workspace_and_flow,
    lanes_run_side_by_side_and_one_at_a_time_each,
    racing_workers_claim_each_job_exactly_once,
    every_seller_table_is_listed_with_its_workspace,
    a_shop_is_connected_with_its_secrets_sealed,
    replacing_a_shop_keeps_its_id_and_replaces_its_secrets,
    shops_are_only_seen_from_their_workspace,
    shop_health_is_recorded_and_due_checks_come_oldest_first,
    registered_webhooks_are_replaced_as_a_list,
    deleting_a_shop_deletes_its_webhooks_and_inbox_rows,
    shop_keys_attach_once_and_not_after_expiry,
    a_pending_shop_authorization_is_taken_once_with_its_keys,
    an_incoming_webhook_is_recorded_once_with_its_job,
    workspace_settings_default_until_saved,
    a_workspace_is_marked_onboarded_once,
    a_channel_records_its_last_success,
    catalog_upserts_count_only_changed_items,
    catalog_pages_walk_every_item_once_in_byte_order,
    items_gone_from_the_shop_are_marked_deleted,
    catalog_items_are_only_seen_from_their_workspace,
    a_sent_item_goes_live_or_fails_with_its_import,
    a_failed_import_puts_its_items_in_error_to_be_sent_again,
    item_errors_forgotten_hashes_and_removals_set_the_state,
    a_channel_holds_its_sent_and_live_skus_counted_by_shop_product,
    channel_items_are_paged_and_scoped_by_workspace,
    the_products_page_filters_by_text_channel_and_state,
    product_settings_and_channel_overrides_are_saved,
    a_channel_mapping_is_saved_replaced_and_deleted,
    a_sent_product_goes_live_or_fails_with_its_import,
    products_are_scoped_by_workspace_and_apart_from_offers,
    a_deleted_channel_takes_its_mapping_and_products_along,
    a_call_budget_grants_then_says_when,
    racing_processes_get_one_call_budget,
    imports_are_followed_until_they_finish,
    sync_runs_are_listed_newest_first,
    sync_runs_are_paged_newest_first_by_keyset,
    the_catalog_cursor_is_kept_with_the_shop,
    deleting_a_channel_removes_everything_kept_for_it,
    a_disconnect_is_started_once_and_resumed_after_a_failure,
    deleting_a_workspace_leaves_its_login_sessions_and_a_receipt_only,
    deleting_a_channels_data_can_be_repeated,
    a_stopping_worker_hands_its_jobs_back_without_spending_attempts,
    the_queue_is_counted_per_flow,
    dead_jobs_are_listed_retried_and_dropped,
    jobs_are_listed_by_status_with_their_attempts,
    a_retried_dead_job_whose_work_is_live_is_dropped_not_doubled,
    channels_and_shops_needing_attention_say_why,
    orders_not_in_their_shop_are_counted_per_workspace_oldest_first,
    the_schema_state_names_missing_and_newer_migrations,
    token_expiries_and_items_in_error_are_read_across_workspaces,
);

const T0: i64 = 1_700_000_000_000;
const MINUTE: i64 = 60_000;

fn email(s: &str) -> Email {
    Email::parse(s).unwrap()
}

async fn workspace(s: &Storage, address: &str) -> WorkspaceId {
    s.create_account(
        &email(address),
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
        T0,
    )
    .await
    .unwrap()
    .workspace_id
}

fn marketplace(name: &str) -> NewChannel {
    NewChannel {
        kind: ChannelKind::Marketplace,
        name: name.to_owned(),
        marketplace_code: Some("demo-marketplace".to_owned()),
        instance_url: Some(
            InstanceUrl::parse("http://127.0.0.1:8090/mmp/demo-marketplace").unwrap(),
        ),
    }
}

async fn channel(s: &Storage, ws: WorkspaceId, status: ChannelStatus) -> ChannelId {
    let channel = s
        .create_channel(ws, &marketplace("Demo"), T0)
        .await
        .unwrap();
    s.update_channel_status(ws, channel.id, status, T0)
        .await
        .unwrap();
    channel.id
}

fn tokens(access: &str, refresh: Option<&str>, expires_at_ms: i64) -> TokenSet {
    TokenSet {
        access_token: Secret::new(access),
        refresh_token: refresh.map(Secret::new),
        access_expires_at_ms: expires_at_ms,
        scope: Some("offers orders".to_owned()),
    }
}

fn job(ws: Option<WorkspaceId>, flow: &str, run_at_ms: i64) -> NewJob {
    NewJob {
        workspace_id: ws,
        flow: flow.to_owned(),
        payload: json!({ "flow": flow, "n": 1 }),
        dedupe_key: None,
        lane: None,
        run_at_ms,
        max_attempts: 3,
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

// ---------------------------------------------------------------- accounts and sessions

async fn an_account_is_created_once_per_email(s: Storage) {
    let account = s
        .create_account(&email("Seller@Example.com"), "phc-hash", T0)
        .await
        .unwrap();
    assert_eq!(account.email, "seller@example.com");

    let found = s
        .find_account_by_email(&email("seller@example.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, account);
    assert!(
        s.find_account_by_email(&email("nobody@example.com"))
            .await
            .unwrap()
            .is_none()
    );

    let again = s
        .create_account(&email("seller@example.com"), "other-hash", T0)
        .await;
    assert!(
        matches!(again, Err(StorageError::Conflict("users_email"))),
        "{again:?}"
    );
    // The failed sign-up left no half-made workspace behind: the first account is intact.
    assert_eq!(
        s.find_account_by_email(&email("seller@example.com"))
            .await
            .unwrap()
            .unwrap(),
        account
    );
}

async fn five_failed_logins_lock_the_account(s: Storage) {
    let account = s
        .create_account(&email("a@example.com"), "h", T0)
        .await
        .unwrap();
    for n in 1..MAX_FAILED_LOGINS {
        let attempt = s
            .reserve_login_attempt(account.user_id, T0 + n)
            .await
            .unwrap();
        assert_eq!(
            attempt,
            LoginAttempt::Reserved {
                attempt: n,
                locks: false
            }
        );
    }
    let last = s
        .reserve_login_attempt(account.user_id, T0 + 10)
        .await
        .unwrap();
    assert_eq!(
        last,
        LoginAttempt::Reserved {
            attempt: MAX_FAILED_LOGINS,
            locks: true
        }
    );
    let stored = s
        .find_account_by_email(&email("a@example.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.locked_until_ms, Some(T0 + 10 + LOCKOUT_MS));
    assert_eq!(
        s.reserve_login_attempt(account.user_id, T0 + 11)
            .await
            .unwrap(),
        LoginAttempt::Locked {
            until_ms: T0 + 10 + LOCKOUT_MS
        }
    );
    // Once the lock has run out, the count starts again.
    assert_eq!(
        s.reserve_login_attempt(account.user_id, T0 + 10 + LOCKOUT_MS)
            .await
            .unwrap(),
        LoginAttempt::Reserved {
            attempt: 1,
            locks: false
        }
    );

    // A successful check releases the reservations and lifts any lock.
    s.clear_failed_logins(account.user_id).await.unwrap();
    let cleared = s
        .find_account_by_email(&email("a@example.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((cleared.failed_logins, cleared.locked_until_ms), (0, None));

    // Failures spread wider than the window never add up to a lock.
    for n in 0..10 {
        let attempt = s
            .reserve_login_attempt(account.user_id, T0 + n * 20 * MINUTE)
            .await
            .unwrap();
        assert_eq!(
            attempt,
            LoginAttempt::Reserved {
                attempt: 1,
                locks: false
            }
        );
    }
    let unknown = s.reserve_login_attempt(UserId::new(), T0).await;
    assert!(
        matches!(unknown, Err(StorageError::NotFound)),
        "{unknown:?}"
    );
}

/// Forty sign-ins at once for one account: the count is taken before any password is checked,
/// so exactly MAX_FAILED_LOGINS of them may check one.
async fn concurrent_sign_ins_reserve_at_most_the_limit(s: Storage) {
    let account = s
        .create_account(&email("burst@example.com"), "h", T0)
        .await
        .unwrap();
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let s = s.clone();
        burst.spawn(async move {
            s.reserve_login_attempt(account.user_id, T0 + 1)
                .await
                .unwrap()
        });
    }
    let mut reserved = Vec::new();
    let mut locked = 0;
    while let Some(attempt) = burst.join_next().await {
        match attempt.unwrap() {
            LoginAttempt::Reserved { attempt, .. } => reserved.push(attempt),
            LoginAttempt::Locked { until_ms } => {
                assert_eq!(until_ms, T0 + 1 + LOCKOUT_MS);
                locked += 1;
            }
        }
    }
    reserved.sort();
    assert_eq!(reserved, (1..=MAX_FAILED_LOGINS).collect::<Vec<_>>());
    assert_eq!(locked, 40 - MAX_FAILED_LOGINS);
    let stored = s
        .find_account_by_email(&email("burst@example.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.failed_logins, MAX_FAILED_LOGINS);
}

/// PostgreSQL cannot store a NUL in a text. Input is checked at the edge; should a NUL get
/// past that, the write fails as `InvalidText` (a 400 for the web), never as a database failure.
async fn a_nul_in_a_text_is_the_callers_error_not_a_database_failure(s: Storage) {
    let account = s
        .create_account(&email("nul@example.com"), "h", T0)
        .await
        .unwrap();
    let shop = s
        .connect_shop(account.workspace_id, &new_shop("nul"), T0)
        .await
        .unwrap();
    let written = s
        .record_shop_health(
            account.workspace_id,
            shop.id,
            ShopHealth::Unreachable,
            Some("a\0b"),
            T0,
        )
        .await;
    match s.engine() {
        Engine::Postgres => assert!(
            matches!(written, Err(StorageError::InvalidText)),
            "{written:?}"
        ),
        Engine::Sqlite => assert!(written.is_ok(), "{written:?}"),
    }
}

async fn api_tokens_are_found_by_hash_until_revoked_and_kept_apart(s: Storage) {
    use storage::{ApiScope, NewApiToken};
    let a = workspace(&s, "a@example.com").await;
    let b = workspace(&s, "b@example.com").await;
    let reader = s
        .create_api_token(
            a,
            NewApiToken {
                token_hash: b"hash-reader",
                display_prefix: "mb_reader",
                name: "Stock report",
                scope: ApiScope::Read,
            },
            T0,
        )
        .await
        .unwrap();
    let writer = s
        .create_api_token(
            a,
            NewApiToken {
                token_hash: b"hash-writer",
                display_prefix: "mb_writer",
                name: "ERP",
                scope: ApiScope::ReadWrite,
            },
            T0 + 1,
        )
        .await
        .unwrap();
    assert!(matches!(
        s.create_api_token(
            b,
            NewApiToken {
                token_hash: b"hash-writer",
                display_prefix: "mb_writer",
                name: "copy",
                scope: ApiScope::Read,
            },
            T0,
        )
        .await,
        Err(StorageError::Conflict("api_tokens_token_hash"))
    ));

    // Newest first; the other workspace sees none of them.
    let listed = s.api_tokens(a).await.unwrap();
    assert_eq!(listed, vec![writer.clone(), reader.clone()]);
    assert!(s.api_tokens(b).await.unwrap().is_empty());

    // Found by its hash, and marked as used (at most once a minute).
    let used = s
        .use_api_token(b"hash-reader", T0 + MINUTE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (used.id, used.workspace_id, used.scope),
        (reader.id, a, ApiScope::Read)
    );
    assert_eq!(used.last_used_at_ms, Some(T0 + MINUTE));
    s.use_api_token(b"hash-reader", T0 + MINUTE + 5)
        .await
        .unwrap()
        .unwrap();
    let listed = s.api_tokens(a).await.unwrap();
    assert_eq!(listed[1].last_used_at_ms, Some(T0 + MINUTE));
    assert_eq!(s.use_api_token(b"hash-unknown", T0).await.unwrap(), None);

    // Another workspace cannot revoke it; its own can, once, and then it opens nothing.
    assert!(matches!(
        s.revoke_api_token(b, reader.id, T0 + 2 * MINUTE).await,
        Err(StorageError::NotFound)
    ));
    assert!(
        s.use_api_token(b"hash-reader", T0 + 2 * MINUTE)
            .await
            .unwrap()
            .is_some()
    );
    s.revoke_api_token(a, reader.id, T0 + 2 * MINUTE)
        .await
        .unwrap();
    s.revoke_api_token(a, reader.id, T0 + 3 * MINUTE)
        .await
        .unwrap();
    assert_eq!(
        s.use_api_token(b"hash-reader", T0 + 3 * MINUTE)
            .await
            .unwrap(),
        None
    );
    let listed = s.api_tokens(a).await.unwrap();
    assert_eq!(listed[1].revoked_at_ms, Some(T0 + 2 * MINUTE));
    assert_eq!(listed[0].revoked_at_ms, None);
    assert!(
        s.use_api_token(b"hash-writer", T0 + 3 * MINUTE)
            .await
            .unwrap()
            .is_some()
    );
}

async fn sessions_expire_and_can_be_deleted(s: Storage) {
    let account = s
        .create_account(&email("a@example.com"), "h", T0)
        .await
        .unwrap();
    let anonymous = s
        .create_session(b"hash-anonymous", "csrf-1", None, T0, T0 + MINUTE)
        .await
        .unwrap();
    let signed_in = s
        .create_session(
            b"hash-signed-in",
            "csrf-2",
            Some((account.user_id, account.workspace_id)),
            T0,
            T0 + 60 * MINUTE,
        )
        .await
        .unwrap();

    let found = s
        .find_session(b"hash-signed-in", T0 + 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, signed_in);
    assert_eq!(found.workspace_id, Some(account.workspace_id));
    assert_eq!(
        s.find_session(b"hash-anonymous", T0 + 1).await.unwrap(),
        Some(anonymous)
    );
    assert_eq!(
        s.find_session(b"hash-anonymous", T0 + MINUTE)
            .await
            .unwrap(),
        None,
        "expired"
    );
    assert_eq!(s.find_session(b"no-such-hash", T0).await.unwrap(), None);

    let duplicate = s
        .create_session(b"hash-signed-in", "csrf-3", None, T0, T0 + MINUTE)
        .await;
    assert!(
        matches!(duplicate, Err(StorageError::Conflict(_))),
        "{duplicate:?}"
    );

    assert_eq!(s.delete_expired_sessions(T0 + 2 * MINUTE).await.unwrap(), 1);
    s.delete_session(b"hash-signed-in").await.unwrap();
    assert_eq!(
        s.find_session(b"hash-signed-in", T0 + 1).await.unwrap(),
        None
    );
}

// ---------------------------------------------------------------- channels

async fn channels_are_only_seen_from_their_workspace(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let first = s
        .create_channel(mine, &marketplace("First"), T0)
        .await
        .unwrap();
    let connect = NewChannel {
        kind: ChannelKind::MiraklConnect,
        name: "Connect".to_owned(),
        marketplace_code: None,
        instance_url: None,
    };
    let second = s.create_channel(mine, &connect, T0 + 1).await.unwrap();
    let other = s
        .create_channel(theirs, &marketplace("Theirs"), T0)
        .await
        .unwrap();

    assert_eq!(first.status, ChannelStatus::AwaitingAuthorization);
    assert_eq!(
        s.get_channel(mine, first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        s.list_channels(mine).await.unwrap(),
        vec![first.clone(), second],
        "oldest first"
    );
    assert_eq!(s.list_channels(theirs).await.unwrap(), vec![other.clone()]);
    assert_eq!(s.get_channel(mine, other.id).await.unwrap(), None);
    assert_eq!(s.get_channel(theirs, first.id).await.unwrap(), None);

    let orphan = s
        .create_channel(WorkspaceId::new(), &marketplace("Nowhere"), T0)
        .await;
    assert!(matches!(orphan, Err(StorageError::NotFound)), "{orphan:?}");
}

async fn channel_updates_are_scoped_by_workspace(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let id = s
        .create_channel(mine, &marketplace("Demo"), T0)
        .await
        .unwrap()
        .id;

    let store = StoreId::new(2001).unwrap();
    let not_found = |r: Result<(), StorageError>| matches!(r, Err(StorageError::NotFound));
    assert!(not_found(
        s.update_channel_status(theirs, id, ChannelStatus::Live, T0)
            .await
    ));
    assert!(not_found(
        s.set_channel_store(theirs, id, store, "Shop", ChannelStatus::ReadyToLaunch, T0)
            .await
    ));
    assert!(not_found(
        s.set_channel_company(theirs, id, Some("ACME"), T0).await
    ));
    assert!(not_found(s.launch_channel(theirs, id, T0).await));
    assert!(not_found(
        s.set_channel_error(theirs, id, Some("boom"), T0).await
    ));
    assert!(not_found(s.delete_channel(theirs, id).await));
    assert_eq!(
        s.get_channel(mine, id)
            .await
            .unwrap()
            .unwrap()
            .updated_at_ms,
        T0,
        "untouched"
    );

    s.update_channel_status(mine, id, ChannelStatus::AwaitingStoreId, T0 + 1)
        .await
        .unwrap();
    s.set_channel_store(
        mine,
        id,
        store,
        "Demo Shop",
        ChannelStatus::ReadyToLaunch,
        T0 + 2,
    )
    .await
    .unwrap();
    s.set_channel_company(mine, id, Some("ACME"), T0 + 3)
        .await
        .unwrap();
    s.set_channel_error(mine, id, Some("Mirakl said no"), T0 + 4)
        .await
        .unwrap();
    s.launch_channel(mine, id, T0 + 5).await.unwrap();
    let channel = s.get_channel(mine, id).await.unwrap().unwrap();
    assert_eq!(channel.status, ChannelStatus::Live);
    assert_eq!(channel.store_id, Some(store));
    assert_eq!(channel.store_name.as_deref(), Some("Demo Shop"));
    assert_eq!(channel.company.as_deref(), Some("ACME"));
    assert_eq!(channel.last_error.as_deref(), Some("Mirakl said no"));
    assert_eq!(channel.launched_at_ms, Some(T0 + 5));
    assert_eq!(channel.updated_at_ms, T0 + 5);
    assert_eq!(channel.instance_url, marketplace("x").instance_url);

    s.set_channel_error(mine, id, None, T0 + 6).await.unwrap();
    s.launch_channel(mine, id, T0 + 7).await.unwrap();
    let channel = s.get_channel(mine, id).await.unwrap().unwrap();
    assert_eq!(
        (channel.last_error, channel.launched_at_ms),
        (None, Some(T0 + 5)),
        "first launch kept"
    );
}

async fn deleting_a_channel_removes_its_tokens_and_pending_authorizations(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let id = channel(&s, ws, ChannelStatus::Live).await;
    s.store_tokens(ws, id, &tokens("access", Some("refresh"), T0), T0)
        .await
        .unwrap();
    s.create_pending_authorization(&pending(ws, id, b"state-1"))
        .await
        .unwrap();

    s.delete_channel(ws, id).await.unwrap();
    assert_eq!(s.get_channel(ws, id).await.unwrap(), None);
    assert_eq!(s.load_tokens(ws, id).await.unwrap(), None);
    assert_eq!(
        s.take_pending_authorization(b"state-1", T0).await.unwrap(),
        PendingLookup::Unknown
    );
}

// ---------------------------------------------------------------- pending authorizations

fn pending(ws: WorkspaceId, channel_id: ChannelId, state_hash: &[u8]) -> NewPendingAuthorization {
    NewPendingAuthorization {
        state_hash: state_hash.to_vec(),
        session_id: Uuid::now_v7(),
        workspace_id: ws,
        channel_id,
        pkce_verifier: "pkce-verifier-that-must-stay-secret".to_owned(),
        created_at_ms: T0,
        expires_at_ms: T0 + 10 * MINUTE,
    }
}

async fn a_pending_authorization_is_taken_once(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let id = channel(&s, ws, ChannelStatus::AwaitingAuthorization).await;
    let new = pending(ws, id, b"state-hash");
    assert!(
        !format!("{new:?}").contains("pkce-verifier"),
        "Debug hides the verifier"
    );
    s.create_pending_authorization(&new).await.unwrap();

    let PendingLookup::Taken(taken) = s
        .take_pending_authorization(b"state-hash", T0 + 1)
        .await
        .unwrap()
    else {
        panic!("the first take must succeed");
    };
    assert_eq!(taken.pkce_verifier.expose(), new.pkce_verifier);
    assert_eq!(
        (taken.session_id, taken.workspace_id, taken.channel_id),
        (new.session_id, ws, id)
    );
    assert_eq!(taken.expires_at_ms, new.expires_at_ms);

    assert_eq!(
        s.take_pending_authorization(b"state-hash", T0 + 2)
            .await
            .unwrap(),
        PendingLookup::Replayed
    );
    assert_eq!(
        s.take_pending_authorization(b"other-hash", T0)
            .await
            .unwrap(),
        PendingLookup::Unknown
    );

    // A channel of another workspace cannot be named.
    let foreign = s
        .create_pending_authorization(&pending(theirs, id, b"state-2"))
        .await;
    assert!(
        matches!(foreign, Err(StorageError::NotFound)),
        "{foreign:?}"
    );

    s.create_pending_authorization(&pending(ws, id, b"state-3"))
        .await
        .unwrap();
    assert_eq!(
        s.delete_expired_pending_authorizations(T0 + 10 * MINUTE)
            .await
            .unwrap(),
        2
    );
}

// ---------------------------------------------------------------- tokens

const ACCESS: &str = "access-token-PLAINTEXT-0123456789";
const REFRESH: &str = "refresh-token-PLAINTEXT-9876543210";

async fn tokens_are_stored_sealed(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let id = channel(&s, ws, ChannelStatus::Live).await;
    let set = tokens(ACCESS, Some(REFRESH), T0 + 60 * MINUTE);
    s.store_tokens(ws, id, &set, T0).await.unwrap();

    let loaded = s.load_tokens(ws, id).await.unwrap().unwrap();
    assert_eq!(loaded.tokens, set);
    assert_eq!(
        (loaded.refreshed_at_ms, loaded.last_refresh_error.as_deref()),
        (None, None)
    );
    assert!(
        !format!("{loaded:?}").contains(ACCESS),
        "Debug hides tokens"
    );

    const RAW: &str =
        "SELECT access_token, refresh_token FROM channel_tokens WHERE channel_id = $1";
    let (access, refresh): (Vec<u8>, Vec<u8>) = match s.raw_pool() {
        RawPool::Sqlite(p) => sqlx::query_as(RAW).bind(id.0).fetch_one(p).await.unwrap(),
        RawPool::Postgres(p) => sqlx::query_as(RAW).bind(id.0).fetch_one(p).await.unwrap(),
    };
    assert!(!contains(&access, ACCESS) && !contains(&refresh, REFRESH));
    assert!(!contains(&access, "PLAINTEXT") && !contains(&refresh, "PLAINTEXT"));

    if let RawPool::Sqlite(p) = s.raw_pool() {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(p)
            .await
            .unwrap();
        let file = p.connect_options().get_filename().to_owned();
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            contains(&bytes, "offers orders"),
            "the scan reads the real data"
        );
        assert!(
            !contains(&bytes, "PLAINTEXT"),
            "a token is in clear in {}",
            file.display()
        );
    }

    // Authorizing again replaces the tokens.
    let again = tokens("new-access", None, T0 + 120 * MINUTE);
    s.store_tokens(ws, id, &again, T0 + 1).await.unwrap();
    assert_eq!(s.load_tokens(ws, id).await.unwrap().unwrap().tokens, again);
    s.delete_tokens(ws, id).await.unwrap();
    assert_eq!(s.load_tokens(ws, id).await.unwrap(), None);
}

async fn tokens_of_another_workspace_are_not_found(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let id = channel(&s, mine, ChannelStatus::Live).await;
    s.store_tokens(mine, id, &tokens(ACCESS, Some(REFRESH), T0), T0)
        .await
        .unwrap();

    assert_eq!(s.load_tokens(theirs, id).await.unwrap(), None);
    assert_eq!(
        s.lock_token_refresh(theirs, id, Uuid::now_v7(), T0, MINUTE)
            .await
            .unwrap(),
        None
    );
    let overwrite = s
        .store_tokens(theirs, id, &tokens("evil", None, T0), T0)
        .await;
    assert!(
        matches!(overwrite, Err(StorageError::NotFound)),
        "{overwrite:?}"
    );
    let refreshed = RefreshOutcome::Refreshed(tokens("evil", None, T0));
    assert!(
        !s.finish_token_refresh(theirs, id, Uuid::now_v7(), refreshed, T0)
            .await
            .unwrap()
    );
    s.delete_tokens(theirs, id).await.unwrap();
    assert_eq!(
        s.load_tokens(mine, id)
            .await
            .unwrap()
            .unwrap()
            .tokens
            .access_token
            .expose(),
        ACCESS
    );
}

async fn the_refresh_lease_has_one_owner_at_a_time(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let id = channel(&s, ws, ChannelStatus::Live).await;
    s.store_tokens(ws, id, &tokens(ACCESS, Some(REFRESH), T0), T0)
        .await
        .unwrap();
    let (first, second) = (Uuid::now_v7(), Uuid::now_v7());

    let held = s
        .lock_token_refresh(ws, id, first, T0, MINUTE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(held.tokens.refresh_token.unwrap().expose(), REFRESH);
    assert_eq!(
        s.lock_token_refresh(ws, id, second, T0 + 1, MINUTE)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.lock_token_refresh(ws, id, first, T0 + 1, MINUTE)
            .await
            .unwrap(),
        None,
        "no re-entry"
    );

    // The first owner stalls; its lease expires and the second takes over.
    assert!(
        s.lock_token_refresh(ws, id, second, T0 + MINUTE + 1, MINUTE)
            .await
            .unwrap()
            .is_some()
    );
    let late = RefreshOutcome::Refreshed(tokens("stale", None, T0 + 60 * MINUTE));
    assert!(
        !s.finish_token_refresh(ws, id, first, late, T0 + MINUTE + 2)
            .await
            .unwrap()
    );
    assert_eq!(
        s.load_tokens(ws, id)
            .await
            .unwrap()
            .unwrap()
            .tokens
            .access_token
            .expose(),
        ACCESS
    );

    let fresh = RefreshOutcome::Refreshed(TokenSet {
        scope: None,
        ..tokens("fresh-access", None, T0 + 90 * MINUTE)
    });
    assert!(
        s.finish_token_refresh(ws, id, second, fresh, T0 + MINUTE + 3)
            .await
            .unwrap()
    );
    let stored = s.load_tokens(ws, id).await.unwrap().unwrap();
    assert_eq!(stored.tokens.access_token.expose(), "fresh-access");
    assert_eq!(
        stored.tokens.refresh_token.unwrap().expose(),
        REFRESH,
        "kept when none is sent"
    );
    assert_eq!(
        stored.tokens.scope.as_deref(),
        Some("offers orders"),
        "kept when none is sent"
    );
    assert_eq!(stored.tokens.access_expires_at_ms, T0 + 90 * MINUTE);
    assert_eq!(stored.refreshed_at_ms, Some(T0 + MINUTE + 3));

    // Released: anyone may take it at once.
    assert!(
        s.lock_token_refresh(ws, id, first, T0 + MINUTE + 4, MINUTE)
            .await
            .unwrap()
            .is_some()
    );
    // A new authorization meanwhile wins over the refresh in flight.
    s.store_tokens(
        ws,
        id,
        &tokens("reauthorized", Some("r2"), T0 + 120 * MINUTE),
        T0 + MINUTE + 5,
    )
    .await
    .unwrap();
    let outdated = RefreshOutcome::Refreshed(tokens("outdated", None, T0));
    assert!(
        !s.finish_token_refresh(ws, id, first, outdated, T0 + MINUTE + 6)
            .await
            .unwrap()
    );
    assert_eq!(
        s.load_tokens(ws, id)
            .await
            .unwrap()
            .unwrap()
            .tokens
            .access_token
            .expose(),
        "reauthorized"
    );
}

async fn a_failed_refresh_can_require_reauthorization(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let id = channel(&s, ws, ChannelStatus::Live).await;
    s.store_tokens(ws, id, &tokens(ACCESS, Some(REFRESH), T0), T0)
        .await
        .unwrap();
    let owner = Uuid::now_v7();

    s.lock_token_refresh(ws, id, owner, T0, MINUTE)
        .await
        .unwrap()
        .unwrap();
    let transient = RefreshOutcome::Failed {
        error: "timeout".to_owned(),
        reauthorization_needed: false,
    };
    assert!(
        s.finish_token_refresh(ws, id, owner, transient, T0 + 1)
            .await
            .unwrap()
    );
    assert_eq!(
        s.load_tokens(ws, id)
            .await
            .unwrap()
            .unwrap()
            .last_refresh_error
            .as_deref(),
        Some("timeout")
    );
    assert_eq!(
        s.get_channel(ws, id).await.unwrap().unwrap().status,
        ChannelStatus::Live
    );

    let refused = RefreshOutcome::Failed {
        error: "invalid_grant".to_owned(),
        reauthorization_needed: true,
    };
    assert!(
        !s.finish_token_refresh(ws, id, owner, refused.clone(), T0 + 2)
            .await
            .unwrap(),
        "lease released"
    );
    assert_eq!(
        s.get_channel(ws, id).await.unwrap().unwrap().status,
        ChannelStatus::Live
    );

    s.lock_token_refresh(ws, id, owner, T0 + 3, MINUTE)
        .await
        .unwrap()
        .unwrap();
    assert!(
        s.finish_token_refresh(ws, id, owner, refused, T0 + 4)
            .await
            .unwrap()
    );
    assert_eq!(
        s.get_channel(ws, id).await.unwrap().unwrap().status,
        ChannelStatus::ReauthorizationNeeded
    );

    // A new authorization clears the error.
    s.store_tokens(ws, id, &tokens(ACCESS, Some(REFRESH), T0), T0 + 5)
        .await
        .unwrap();
    assert_eq!(
        s.load_tokens(ws, id)
            .await
            .unwrap()
            .unwrap()
            .last_refresh_error,
        None
    );
}

async fn channels_due_for_refresh_are_authorized_unlocked_and_expiring(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let soon = channel(&s, mine, ChannelStatus::Live).await;
    let sooner = channel(&s, theirs, ChannelStatus::ReadyToLaunch).await;
    let later = channel(&s, mine, ChannelStatus::Live).await;
    let no_refresh_token = channel(&s, mine, ChannelStatus::Live).await;
    let refused = channel(&s, mine, ChannelStatus::ReauthorizationNeeded).await;
    let locked = channel(&s, mine, ChannelStatus::Live).await;
    s.store_tokens(mine, soon, &tokens("a", Some("r"), T0 + 2 * MINUTE), T0)
        .await
        .unwrap();
    s.store_tokens(theirs, sooner, &tokens("a", Some("r"), T0 + MINUTE), T0)
        .await
        .unwrap();
    s.store_tokens(mine, later, &tokens("a", Some("r"), T0 + 60 * MINUTE), T0)
        .await
        .unwrap();
    s.store_tokens(mine, no_refresh_token, &tokens("a", None, T0), T0)
        .await
        .unwrap();
    s.store_tokens(mine, refused, &tokens("a", Some("r"), T0), T0)
        .await
        .unwrap();
    s.store_tokens(mine, locked, &tokens("a", Some("r"), T0), T0)
        .await
        .unwrap();
    s.lock_token_refresh(mine, locked, Uuid::now_v7(), T0, 10 * MINUTE)
        .await
        .unwrap()
        .unwrap();

    let due = s
        .channels_due_for_refresh(T0 + 5 * MINUTE, 10)
        .await
        .unwrap();
    assert_eq!(due, vec![(theirs, sooner), (mine, soon)]);
    assert_eq!(
        s.channels_due_for_refresh(T0 + 5 * MINUTE, 1)
            .await
            .unwrap(),
        vec![(theirs, sooner)]
    );
    // Once its lease has run out, the locked channel is due again.
    let due = s
        .channels_due_for_refresh(T0 + 11 * MINUTE, 10)
        .await
        .unwrap();
    assert!(due.contains(&(mine, locked)), "{due:?}");
}

// ---------------------------------------------------------------- jobs

async fn a_claimed_job_runs_under_a_lease(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let worker = Uuid::now_v7();
    assert_eq!(
        s.claim_job(worker, T0, MINUTE).await.unwrap(),
        None,
        "empty queue"
    );
    let id = s
        .enqueue_job(&job(Some(ws), "export", T0 + 10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s.claim_job(worker, T0, MINUTE).await.unwrap(),
        None,
        "not due yet"
    );

    let claimed = s.claim_job(worker, T0 + 10, MINUTE).await.unwrap().unwrap();
    assert_eq!(claimed.id, id);
    assert_eq!(claimed.status, JobStatus::Running);
    assert_eq!(claimed.attempts, 1);
    assert_eq!(claimed.lease_until_ms, Some(T0 + 10 + MINUTE));
    assert_eq!(claimed.payload, json!({ "flow": "export", "n": 1 }));
    assert_eq!(claimed.workspace_id, Some(ws));
    assert_eq!(
        s.claim_job(Uuid::now_v7(), T0 + 10, MINUTE).await.unwrap(),
        None,
        "taken"
    );

    assert!(s.heartbeat_job(id, worker, T0 + 5 * MINUTE).await.unwrap());
    assert_eq!(
        s.get_job(id).await.unwrap().unwrap().lease_until_ms,
        Some(T0 + 5 * MINUTE)
    );
    assert!(
        !s.heartbeat_job(id, Uuid::now_v7(), T0 + 9 * MINUTE)
            .await
            .unwrap(),
        "not the owner"
    );
    // The extended lease outlives the first one: nothing is reaped.
    assert_eq!(s.reap_expired_leases(T0 + 2 * MINUTE).await.unwrap(), 0);

    assert!(
        !s.complete_job(id, Uuid::now_v7(), T0 + 3 * MINUTE)
            .await
            .unwrap(),
        "not the owner"
    );
    assert!(s.complete_job(id, worker, T0 + 3 * MINUTE).await.unwrap());
    assert_eq!(
        s.get_job(id).await.unwrap().unwrap().status,
        JobStatus::Done
    );
    assert!(
        !s.complete_job(id, worker, T0 + 3 * MINUTE).await.unwrap(),
        "already done"
    );
    assert_eq!(s.get_job(JobId::new()).await.unwrap(), None);
}

async fn an_expired_lease_is_reaped_and_claimed_again(s: Storage) {
    let (crashed, healthy) = (Uuid::now_v7(), Uuid::now_v7());
    let mut new = job(None, "housekeeping", T0);
    new.max_attempts = 2;
    let id = s.enqueue_job(&new).await.unwrap().unwrap();

    s.claim_job(crashed, T0, MINUTE).await.unwrap().unwrap();
    assert_eq!(
        s.reap_expired_leases(T0 + MINUTE).await.unwrap(),
        0,
        "lease still running"
    );
    assert_eq!(s.reap_expired_leases(T0 + MINUTE + 1).await.unwrap(), 1);
    let requeued = s.get_job(id).await.unwrap().unwrap();
    assert_eq!(
        (requeued.status, requeued.lease_until_ms),
        (JobStatus::Queued, None)
    );
    assert!(requeued.last_error.unwrap().contains("lease expired"));

    let again = s
        .claim_job(healthy, T0 + MINUTE + 2, MINUTE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.id, again.attempts), (id, 2));
    assert!(
        !s.complete_job(id, crashed, T0 + MINUTE + 3).await.unwrap(),
        "the crashed worker lost it"
    );

    // Out of attempts, the next expiry sends it to the dead letter status.
    assert_eq!(s.reap_expired_leases(T0 + 3 * MINUTE).await.unwrap(), 1);
    assert_eq!(
        s.get_job(id).await.unwrap().unwrap().status,
        JobStatus::Dead
    );
    assert_eq!(
        s.claim_job(healthy, T0 + 4 * MINUTE, MINUTE).await.unwrap(),
        None
    );
}

async fn a_released_job_waits_without_spending_an_attempt(s: Storage) {
    let worker = Uuid::now_v7();
    let id = s
        .enqueue_job(&job(None, "export", T0))
        .await
        .unwrap()
        .unwrap();
    let claimed = s.claim_job(worker, T0, MINUTE).await.unwrap().unwrap();
    assert_eq!(claimed.attempts, 1);
    // Another worker cannot release what it does not hold.
    assert!(
        !s.release_job(id, Uuid::now_v7(), T0 + MINUTE, T0)
            .await
            .unwrap()
    );
    assert!(s.release_job(id, worker, T0 + MINUTE, T0).await.unwrap());
    assert_eq!(
        s.claim_job(worker, T0 + MINUTE - 1, MINUTE).await.unwrap(),
        None,
        "not due yet"
    );
    let again = s
        .claim_job(worker, T0 + MINUTE, MINUTE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.id, id);
    assert_eq!(again.attempts, 1, "waiting is not a failed attempt");
}

async fn a_job_that_cannot_run_is_buried_at_once(s: Storage) {
    let worker = Uuid::now_v7();
    let id = s
        .enqueue_job(&job(None, "import", T0))
        .await
        .unwrap()
        .unwrap();
    s.claim_job(worker, T0, MINUTE).await.unwrap().unwrap();
    assert!(
        !s.bury_job(id, Uuid::now_v7(), "not mine", T0)
            .await
            .unwrap(),
        "another worker's lease"
    );
    assert!(
        s.bury_job(id, worker, "its payload does not read", T0)
            .await
            .unwrap()
    );
    let dead = s.get_job(id).await.unwrap().unwrap();
    assert_eq!(
        (dead.status, dead.attempts, dead.last_error.as_deref()),
        (JobStatus::Dead, 1, Some("its payload does not read")),
        "dead after one attempt of three"
    );
    assert_eq!(
        s.claim_job(worker, T0 + 60 * MINUTE, MINUTE).await.unwrap(),
        None
    );
}

async fn failures_back_off_then_dead_letter(s: Storage) {
    let worker = Uuid::now_v7();
    let id = s
        .enqueue_job(&job(None, "import", T0))
        .await
        .unwrap()
        .unwrap();

    let mut now = T0;
    let mut waits = Vec::new();
    for attempt in 1..=2 {
        let claimed = s.claim_job(worker, now, MINUTE).await.unwrap().unwrap();
        assert_eq!(claimed.attempts, attempt);
        let JobFailure::Retrying { run_at_ms } =
            s.fail_job(id, worker, "Mirakl 503", now).await.unwrap()
        else {
            panic!("attempt {attempt} of 3 must be retried");
        };
        assert_eq!(run_at_ms, now + backoff_ms(attempt));
        assert_eq!(
            s.claim_job(worker, run_at_ms - 1, MINUTE).await.unwrap(),
            None,
            "backing off"
        );
        waits.push(run_at_ms - now);
        now = run_at_ms;
    }
    assert!(waits[1] > waits[0], "{waits:?}");
    let stored = s.get_job(id).await.unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.last_error.as_deref()),
        (JobStatus::Queued, Some("Mirakl 503"))
    );

    s.claim_job(worker, now, MINUTE).await.unwrap().unwrap();
    assert_eq!(
        s.fail_job(id, Uuid::now_v7(), "not mine", now)
            .await
            .unwrap(),
        JobFailure::LeaseLost
    );
    assert_eq!(
        s.fail_job(id, worker, "Mirakl 503", now).await.unwrap(),
        JobFailure::Dead
    );
    let dead = s.get_job(id).await.unwrap().unwrap();
    assert_eq!((dead.status, dead.attempts), (JobStatus::Dead, 3));
    assert_eq!(
        s.claim_job(worker, now + 100 * 60 * MINUTE, MINUTE)
            .await
            .unwrap(),
        None,
        "never again"
    );
}

async fn a_dedupe_key_admits_one_live_job(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let worker = Uuid::now_v7();
    let keyed = NewJob {
        dedupe_key: Some(format!("sync:{ws}")),
        ..job(Some(ws), "sync", T0)
    };

    let id = s.enqueue_job(&keyed).await.unwrap().unwrap();
    assert_eq!(s.enqueue_job(&keyed).await.unwrap(), None, "queued");
    s.claim_job(worker, T0, MINUTE).await.unwrap().unwrap();
    assert_eq!(s.enqueue_job(&keyed).await.unwrap(), None, "running");
    s.complete_job(id, worker, T0 + 1).await.unwrap();

    let next = s
        .enqueue_job(&keyed)
        .await
        .unwrap()
        .expect("done jobs free the key");
    assert_ne!(next, id);
    assert!(
        s.enqueue_job(&job(Some(ws), "sync", T0))
            .await
            .unwrap()
            .is_some(),
        "no key, no dedupe"
    );

    let orphan = s
        .enqueue_job(&job(Some(WorkspaceId::new()), "sync", T0))
        .await;
    assert!(matches!(orphan, Err(StorageError::NotFound)), "{orphan:?}");
}

async fn lanes_run_side_by_side_and_one_at_a_time_each(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let in_lane = |lane: &str, at: i64| NewJob {
        lane: Some(lane.to_owned()),
        ..job(Some(ws), "order_step", at)
    };
    let a1 = s.enqueue_job(&in_lane("a", T0)).await.unwrap().unwrap();
    let a2 = s.enqueue_job(&in_lane("a", T0 + 1)).await.unwrap().unwrap();
    let b1 = s.enqueue_job(&in_lane("b", T0 + 2)).await.unwrap().unwrap();
    let laneless = s
        .enqueue_job(&job(Some(ws), "order_step", T0 + 3))
        .await
        .unwrap()
        .unwrap();

    let worker = Uuid::now_v7();
    let mut claimed = Vec::new();
    while let Some(job) = s.claim_job(worker, T0 + 10, MINUTE).await.unwrap() {
        claimed.push(job.id);
    }
    // Lane a runs one job, lane b runs beside it, and the job without a lane has a lane of
    // its own (the flow's, as before lanes).
    assert_eq!(claimed, vec![a1, b1, laneless]);
    assert!(s.complete_job(a1, worker, T0 + 11).await.unwrap());
    assert_eq!(
        s.claim_job(worker, T0 + 12, MINUTE)
            .await
            .unwrap()
            .map(|j| j.id),
        Some(a2),
        "the lane's next job once its first is done"
    );
}

async fn one_job_runs_per_workspace_and_flow(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let first = s
        .enqueue_job(&job(Some(mine), "export", T0))
        .await
        .unwrap()
        .unwrap();
    let second = s
        .enqueue_job(&job(Some(mine), "export", T0))
        .await
        .unwrap()
        .unwrap();
    let other_flow = s
        .enqueue_job(&job(Some(mine), "import", T0 + 1))
        .await
        .unwrap()
        .unwrap();
    let other_ws = s
        .enqueue_job(&job(Some(theirs), "export", T0 + 2))
        .await
        .unwrap()
        .unwrap();
    let global = s
        .enqueue_job(&job(None, "export", T0 + 3))
        .await
        .unwrap()
        .unwrap();
    let global_second = s
        .enqueue_job(&job(None, "export", T0 + 3))
        .await
        .unwrap()
        .unwrap();

    let mut claimed = Vec::new();
    let worker = Uuid::now_v7();
    while let Some(job) = s.claim_job(worker, T0 + 10, MINUTE).await.unwrap() {
        claimed.push(job.id);
    }
    assert_eq!(
        claimed,
        vec![first, other_flow, other_ws, global],
        "oldest due first, one per workspace+flow"
    );

    // Completing a job frees its flow.
    assert!(s.complete_job(first, worker, T0 + 11).await.unwrap());
    assert_eq!(
        s.claim_job(worker, T0 + 12, MINUTE)
            .await
            .unwrap()
            .map(|j| j.id),
        Some(second)
    );
    // An expired lease frees it too, even before the reaper has run.
    assert_eq!(
        s.claim_job(worker, T0 + 10 + MINUTE, MINUTE).await.unwrap(),
        None,
        "lease still running"
    );
    let after_expiry = s
        .claim_job(worker, T0 + 10 + MINUTE + 1, MINUTE)
        .await
        .unwrap();
    assert_eq!(after_expiry.map(|j| j.id), Some(global_second));
}

async fn racing_workers_claim_each_job_exactly_once(s: Storage) {
    const JOBS: usize = 50;
    const WORKERS: usize = 4;
    let mut workspaces = Vec::new();
    for n in 0..5 {
        workspaces.push(workspace(&s, &format!("seller{n}@example.com")).await);
    }
    let mut enqueued = HashSet::new();
    for n in 0..JOBS {
        // Ten (workspace, flow) groups: claims also race for the one-running-per-group rule.
        let new = job(
            Some(workspaces[n % 5]),
            if n % 2 == 0 { "export" } else { "import" },
            T0,
        );
        enqueued.insert(s.enqueue_job(&new).await.unwrap().unwrap());
    }

    let mut tasks = Vec::new();
    for _ in 0..WORKERS {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let worker = Uuid::now_v7();
            let mut mine = Vec::new();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            while mine.len() < JOBS && tokio::time::Instant::now() < deadline {
                match s.claim_job(worker, T0, 10 * MINUTE).await.unwrap() {
                    Some(job) => {
                        mine.push(job.id);
                        // Still alone in its (workspace, flow) while this worker holds it.
                        tokio::task::yield_now().await;
                        assert_eq!(running_in_group(&s, &job).await, 1, "{job:?}");
                        assert!(
                            s.complete_job(job.id, worker, T0).await.unwrap(),
                            "lost a lease it just took"
                        );
                    }
                    None if queue_is_drained(&s).await => break,
                    None => tokio::task::yield_now().await,
                }
            }
            mine
        }));
    }
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.extend(task.await.unwrap());
    }
    let unique: HashSet<JobId> = claimed.iter().copied().collect();
    assert_eq!(claimed.len(), JOBS, "every job claimed once, no job twice");
    assert_eq!(unique, enqueued);
}

/// Jobs running in the job's (workspace, flow) group.
async fn running_in_group(s: &Storage, job: &Job) -> i64 {
    const SQL: &str =
        "SELECT COUNT(*) FROM jobs WHERE status = 'running' AND workspace_id = $1 AND flow = $2";
    let ws = job.workspace_id.map(|w| w.0);
    match s.raw_pool() {
        RawPool::Sqlite(p) => sqlx::query_scalar(SQL)
            .bind(ws)
            .bind(&job.flow)
            .fetch_one(p)
            .await
            .unwrap(),
        RawPool::Postgres(p) => sqlx::query_scalar(SQL)
            .bind(ws)
            .bind(&job.flow)
            .fetch_one(p)
            .await
            .unwrap(),
    }
}

/// No job is left queued or running (read through the raw pool: not a storage feature).
async fn queue_is_drained(s: &Storage) -> bool {
    const SQL: &str = "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')";
    let live: i64 = match s.raw_pool() {
        RawPool::Sqlite(p) => sqlx::query_scalar(SQL).fetch_one(p).await.unwrap(),
        RawPool::Postgres(p) => sqlx::query_scalar(SQL).fetch_one(p).await.unwrap(),
    };
    live == 0
}

async fn every_seller_table_is_listed_with_its_workspace(s: Storage) {
    s.ping().await.unwrap();
    let tables = s.workspace_tables().await.unwrap();
    assert_eq!(
        tables,
        [
            "api_tokens",
            "call_budgets",
            "catalog_items",
            "catalog_versions",
            "channel_cursors",
            "channel_imports",
            "channel_items",
            "channel_mappings",
            "channel_overrides",
            "channel_products",
            "channel_tokens",
            "channels",
            "disconnect_receipts",
            "disconnects",
            "jobs",
            "oauth_pending",
            "order_decisions",
            "order_events",
            "order_holds",
            "order_settings",
            "order_steps",
            "orders",
            "product_settings",
            "sessions",
            "shop_auth_pending",
            "shop_changes",
            "shop_webhooks",
            "shops",
            "sync_runs",
            "users",
            "webhook_inbox",
            "workspace_settings",
        ]
    );
}

// ---------------------------------------------------------------- shops

const WEBHOOK_FLOW: &str = "shop_webhook";
const WEBHOOK_JOB_MAX_ATTEMPTS: i32 = 8;

fn new_shop(tag: &str) -> NewShop {
    NewShop {
        platform: ShopPlatform::WooCommerce,
        store_url: format!("https://{tag}.example.com"),
        consumer_key: Secret::new(format!("ck_{tag}_PLAINTEXT")),
        consumer_secret: Secret::new(format!("cs_{tag}_PLAINTEXT")),
        key_permissions: Some("read_write".to_owned()),
        connection: ShopConnection::AppAuthorization,
        webhook_secret: Secret::new(format!("whsec_{tag}_PLAINTEXT")),
    }
}

fn registered(topic: &str, remote_id: i64) -> RegisteredWebhook {
    RegisteredWebhook {
        topic: topic.to_owned(),
        remote_id,
        status: "active".to_owned(),
    }
}

fn incoming(delivery_id: &str, body: &str) -> IncomingWebhook {
    IncomingWebhook {
        id: Uuid::now_v7(),
        topic: "product.updated".to_owned(),
        resource_id: Some(42),
        delivery_id: delivery_id.to_owned(),
        // Stands in for the SHA-256 of the body: storage only compares it.
        body_sha256: body.as_bytes().to_vec(),
        body: body.to_owned(),
    }
}

/// Records a delivery as the receiver does: under a new inbox id (each request gets one), with
/// the job that processes it, as `sync` queues it.
async fn record(
    s: &Storage,
    ws: WorkspaceId,
    shop: ShopId,
    w: &IncomingWebhook,
    now_ms: i64,
) -> Result<WebhookRecord, StorageError> {
    let w = IncomingWebhook {
        id: Uuid::now_v7(),
        ..w.clone()
    };
    let job = NewJob {
        workspace_id: Some(ws),
        flow: WEBHOOK_FLOW.to_owned(),
        payload: json!({ "inbox_id": w.id.to_string(), "shop_id": shop.to_string() }),
        dedupe_key: None,
        lane: None,
        run_at_ms: now_ms,
        max_attempts: WEBHOOK_JOB_MAX_ATTEMPTS,
    };
    s.record_incoming_webhook(ws, shop, &w, &job, now_ms).await
}

/// The sealed columns of a shop as stored: consumer key, consumer secret, webhook secret.
async fn raw_shop_secrets(s: &Storage, id: ShopId) -> [Vec<u8>; 3] {
    const RAW: &str =
        "SELECT consumer_key, consumer_secret, webhook_secret FROM shops WHERE id = $1";
    let (key, secret, webhook): (Vec<u8>, Vec<u8>, Vec<u8>) = match s.raw_pool() {
        RawPool::Sqlite(p) => sqlx::query_as(RAW).bind(id.0).fetch_one(p).await.unwrap(),
        RawPool::Postgres(p) => sqlx::query_as(RAW).bind(id.0).fetch_one(p).await.unwrap(),
    };
    [key, secret, webhook]
}

/// `SELECT COUNT(*) … WHERE <column> = $1` read through the raw pool.
async fn raw_count(s: &Storage, sql: &'static str, id: Uuid) -> i64 {
    match s.raw_pool() {
        RawPool::Sqlite(p) => sqlx::query_scalar(sql).bind(id).fetch_one(p).await.unwrap(),
        RawPool::Postgres(p) => sqlx::query_scalar(sql).bind(id).fetch_one(p).await.unwrap(),
    }
}

/// The payloads of the jobs of `flow`, oldest first.
async fn job_payloads(s: &Storage, flow: &str) -> Vec<serde_json::Value> {
    const SQL: &str = "SELECT payload FROM jobs WHERE flow = $1 ORDER BY run_at_ms, id";
    let payloads: Vec<String> = match s.raw_pool() {
        RawPool::Sqlite(p) => sqlx::query_scalar(SQL).bind(flow).fetch_all(p).await,
        RawPool::Postgres(p) => sqlx::query_scalar(SQL).bind(flow).fetch_all(p).await,
    }
    .unwrap();
    payloads
        .iter()
        .map(|p| serde_json::from_str(p).unwrap())
        .collect()
}

async fn a_changed_product_is_read_once_and_a_later_change_is_kept(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let shop = s.connect_shop(ws, &new_shop("demo"), T0).await.unwrap();
    for (product, at) in [(7, T0), (8, T0 + 1), (7, T0 + 2)] {
        s.mark_shop_product_changed(ws, shop.id, product, at)
            .await
            .unwrap();
    }
    // A burst for one product is one entry, with its latest time.
    let seen = s.shop_changes(ws, shop.id, 10).await.unwrap();
    assert_eq!(
        seen.iter()
            .map(|c| (c.shop_product_id, c.changed_at_ms))
            .collect::<Vec<_>>(),
        [(8, T0 + 1), (7, T0 + 2)]
    );
    assert_eq!(s.shop_changes(ws, shop.id, 1).await.unwrap().len(), 1);
    // A change during the read survives the read's clearing.
    s.mark_shop_product_changed(ws, shop.id, 8, T0 + 5)
        .await
        .unwrap();
    assert_eq!(s.clear_shop_changes(ws, shop.id, &seen).await.unwrap(), 1);
    let left = s.shop_changes(ws, shop.id, 10).await.unwrap();
    assert_eq!(
        left,
        [ShopChange {
            shop_product_id: 8,
            changed_at_ms: T0 + 5
        }]
    );
    // Another workspace can neither mark nor see the shop's changes.
    let other = workspace(&s, "other@example.com").await;
    assert!(matches!(
        s.mark_shop_product_changed(other, shop.id, 9, T0).await,
        Err(StorageError::NotFound)
    ));
    assert!(s.shop_changes(other, shop.id, 10).await.unwrap().is_empty());
    assert_eq!(
        s.clear_shop_changes(other, shop.id, &left).await.unwrap(),
        0
    );
}

async fn an_export_finds_the_items_changed_since_its_cursor(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let channel = s
        .create_channel(ws, &marketplace("Demo"), T0)
        .await
        .unwrap();
    assert_eq!(
        s.channel_cursor(ws, channel.id, "export").await.unwrap(),
        None
    );
    assert_eq!(s.catalog_version(ws).await.unwrap(), 0);
    let row = |sku: &str, data: &str| CatalogRow {
        sku: sku.to_owned(),
        shop_product_id: 1,
        shop_variation_id: None,
        title: sku.to_owned(),
        data: data.to_owned(),
        modified_at_ms: T0,
        seen_at_ms: T0,
        deleted_at_ms: None,
    };
    s.upsert_catalog_items(ws, &[row("A", "1"), row("B", "1"), row("C", "1")])
        .await
        .unwrap();
    let seen = s.catalog_version(ws).await.unwrap();
    assert!(seen > 0);
    let changed = |since| {
        let s = s.clone();
        async move {
            s.catalog_changed_page(ws, since, None, 100)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.sku)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(changed(0).await, ["A", "B", "C"]);
    assert!(changed(seen).await.is_empty());
    s.advance_channel_cursor(ws, channel.id, "export", seen)
        .await
        .unwrap();
    // Unchanged data changes nothing; changed data and a deletion do.
    s.upsert_catalog_items(ws, &[row("A", "1"), row("B", "2")])
        .await
        .unwrap();
    s.mark_catalog_deleted(ws, &["C".to_owned()], T0 + 1)
        .await
        .unwrap();
    assert_eq!(changed(seen).await, ["B", "C"]);
    assert_eq!(
        s.catalog_changed_page(ws, seen, Some("B"), 100)
            .await
            .unwrap()
            .len(),
        1
    );
    // The cursor only moves forward, and only in its workspace.
    s.advance_channel_cursor(ws, channel.id, "export", seen - 1)
        .await
        .unwrap();
    assert_eq!(
        s.channel_cursor(ws, channel.id, "export").await.unwrap(),
        Some(seen)
    );
    let other = workspace(&s, "other@example.com").await;
    assert_eq!(s.catalog_version(other).await.unwrap(), 0);
    assert!(matches!(
        s.advance_channel_cursor(other, channel.id, "export", seen + 10)
            .await,
        Err(StorageError::NotFound)
    ));
    assert_eq!(
        s.channel_cursor(other, channel.id, "export").await.unwrap(),
        None
    );
    s.reset_channel_cursor(ws, channel.id, "export")
        .await
        .unwrap();
    assert_eq!(
        s.channel_cursor(ws, channel.id, "export").await.unwrap(),
        None
    );
}

async fn a_shop_is_connected_with_its_secrets_sealed(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    assert_eq!(s.get_shop(ws).await.unwrap(), None);
    let new = new_shop("demo");
    let shop = s.connect_shop(ws, &new, T0).await.unwrap();
    assert_eq!(shop.workspace_id, ws);
    assert_eq!(
        (shop.platform, shop.store_url.as_str(), shop.connection),
        (
            ShopPlatform::WooCommerce,
            "https://demo.example.com",
            ShopConnection::AppAuthorization
        )
    );
    assert_eq!(shop.key_permissions.as_deref(), Some("read_write"));
    assert_eq!(
        (
            shop.health,
            shop.last_success_at_ms,
            shop.last_error.clone()
        ),
        (ShopHealth::Ok, Some(T0), None),
        "verified on connection"
    );
    assert_eq!(
        (
            shop.last_webhook_at_ms,
            shop.created_at_ms,
            shop.updated_at_ms
        ),
        (None, T0, T0)
    );
    assert_eq!(s.get_shop(ws).await.unwrap(), Some(shop.clone()));
    assert_eq!(s.find_shop(shop.id).await.unwrap(), Some(shop.clone()));

    let secrets = s.shop_secrets(ws, shop.id).await.unwrap();
    assert_eq!(
        (
            &secrets.consumer_key,
            &secrets.consumer_secret,
            &secrets.webhook_secret
        ),
        (&new.consumer_key, &new.consumer_secret, &new.webhook_secret)
    );
    assert!(
        !format!("{secrets:?}{new:?}").contains("PLAINTEXT"),
        "Debug hides secrets"
    );
    for column in raw_shop_secrets(&s, shop.id).await {
        assert!(!contains(&column, "PLAINTEXT"));
    }
    if let RawPool::Sqlite(p) = s.raw_pool() {
        s.checkpoint().await.unwrap();
        let file = p.connect_options().get_filename().to_owned();
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            contains(&bytes, "demo.example.com"),
            "the scan reads the real data"
        );
        assert!(
            !contains(&bytes, "PLAINTEXT"),
            "a key is in clear in {}",
            file.display()
        );
    }

    let orphan = s.connect_shop(WorkspaceId::new(), &new, T0).await;
    assert!(matches!(orphan, Err(StorageError::NotFound)), "{orphan:?}");
}

async fn replacing_a_shop_keeps_its_id_and_replaces_its_secrets(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let first = s.connect_shop(ws, &new_shop("old"), T0).await.unwrap();
    let sealed_before = raw_shop_secrets(&s, first.id).await;
    s.record_shop_health(ws, first.id, ShopHealth::KeysRefused, Some("401"), T0 + 1)
        .await
        .unwrap();
    record(&s, ws, first.id, &incoming("d1", "{}"), T0 + 2)
        .await
        .unwrap();

    let new = NewShop {
        connection: ShopConnection::PastedKeys,
        key_permissions: None,
        ..new_shop("new")
    };
    let replaced = s.connect_shop(ws, &new, T0 + 3).await.unwrap();
    assert_eq!(replaced.id, first.id, "same shop");
    assert_eq!(
        (replaced.created_at_ms, replaced.updated_at_ms),
        (T0, T0 + 3)
    );
    assert_eq!(
        (
            replaced.store_url.as_str(),
            replaced.connection,
            replaced.key_permissions.clone()
        ),
        ("https://new.example.com", ShopConnection::PastedKeys, None)
    );
    assert_eq!(
        (
            replaced.health,
            replaced.last_success_at_ms,
            replaced.last_error.clone()
        ),
        (ShopHealth::Ok, Some(T0 + 3), None),
        "health reset"
    );
    assert_eq!(replaced.last_webhook_at_ms, Some(T0 + 2), "history kept");
    assert_eq!(s.get_shop(ws).await.unwrap(), Some(replaced));

    let secrets = s.shop_secrets(ws, first.id).await.unwrap();
    assert_eq!(secrets.consumer_key, new.consumer_key);
    assert_eq!(secrets.consumer_secret, new.consumer_secret);
    assert_eq!(secrets.webhook_secret, new.webhook_secret);
    let sealed_after = raw_shop_secrets(&s, first.id).await;
    for (before, after) in sealed_before.iter().zip(&sealed_after) {
        assert_ne!(before, after);
        assert!(!contains(after, "PLAINTEXT"));
    }
    assert_eq!(
        raw_count(
            &s,
            "SELECT COUNT(*) FROM shops WHERE workspace_id = $1",
            ws.0
        )
        .await,
        1
    );
}

async fn shops_are_only_seen_from_their_workspace(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let shop = s.connect_shop(mine, &new_shop("mine"), T0).await.unwrap();
    s.set_shop_webhooks(mine, shop.id, &[registered("order.created", 7)], T0)
        .await
        .unwrap();
    let WebhookRecord::Recorded(inbox_id) = record(&s, mine, shop.id, &incoming("d1", "{}"), T0)
        .await
        .unwrap()
    else {
        panic!("a first delivery is recorded");
    };
    let shop = s.get_shop(mine).await.unwrap().unwrap();

    assert_eq!(s.get_shop(theirs).await.unwrap(), None);
    // The webhook receiver's lookup is not scoped: it learns the workspace from the shop.
    assert_eq!(s.find_shop(shop.id).await.unwrap(), Some(shop.clone()));
    assert_eq!(s.find_shop(ShopId::new()).await.unwrap(), None);

    let not_found = |r: Result<(), StorageError>| matches!(r, Err(StorageError::NotFound));
    assert!(matches!(
        s.shop_secrets(theirs, shop.id).await,
        Err(StorageError::NotFound)
    ));
    assert!(not_found(
        s.record_shop_health(theirs, shop.id, ShopHealth::Unreachable, Some("x"), T0 + 1)
            .await
    ));
    assert!(not_found(
        s.set_shop_webhooks(theirs, shop.id, &[], T0 + 1).await
    ));
    assert_eq!(s.shop_webhooks(theirs, shop.id).await.unwrap(), vec![]);
    let foreign = record(&s, theirs, shop.id, &incoming("d2", "{}"), T0 + 1).await;
    assert!(
        matches!(foreign, Err(StorageError::NotFound)),
        "{foreign:?}"
    );
    assert_eq!(
        s.get_incoming_webhook(theirs, inbox_id).await.unwrap(),
        None
    );
    assert!(not_found(
        s.mark_webhook_processed(theirs, inbox_id, T0 + 1).await
    ));
    assert_eq!(
        s.webhook_counts(theirs, shop.id).await.unwrap(),
        WebhookCounts {
            received: 0,
            processed: 0
        }
    );
    assert!(not_found(s.delete_shop(theirs, shop.id).await));

    // Nothing of the above touched the shop, its webhooks, its inbox or the queue.
    assert_eq!(s.get_shop(mine).await.unwrap(), Some(shop.clone()));
    assert_eq!(
        s.shop_secrets(mine, shop.id).await.unwrap().consumer_key,
        new_shop("mine").consumer_key
    );
    assert_eq!(
        s.shop_webhooks(mine, shop.id).await.unwrap(),
        vec![registered("order.created", 7)]
    );
    assert_eq!(
        s.webhook_counts(mine, shop.id).await.unwrap(),
        WebhookCounts {
            received: 1,
            processed: 0
        }
    );
    assert_eq!(job_payloads(&s, WEBHOOK_FLOW).await.len(), 1);

    // The other workspace connects a shop of its own.
    let other = s
        .connect_shop(theirs, &new_shop("theirs"), T0)
        .await
        .unwrap();
    assert_ne!(other.id, shop.id);
    assert_eq!(s.get_shop(mine).await.unwrap(), Some(shop));
}

async fn shop_health_is_recorded_and_due_checks_come_oldest_first(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let a = s.connect_shop(mine, &new_shop("a"), T0).await.unwrap().id;
    let b = s
        .connect_shop(theirs, &new_shop("b"), T0 + 1)
        .await
        .unwrap()
        .id;

    s.record_shop_health(
        mine,
        a,
        ShopHealth::Unreachable,
        Some("connection refused"),
        T0 + 10,
    )
    .await
    .unwrap();
    let shop = s.get_shop(mine).await.unwrap().unwrap();
    assert_eq!(
        (
            shop.health,
            shop.last_error.as_deref(),
            shop.last_success_at_ms
        ),
        (
            ShopHealth::Unreachable,
            Some("connection refused"),
            Some(T0)
        ),
        "the last success is kept"
    );
    assert_eq!(shop.updated_at_ms, T0 + 10);

    s.record_shop_health(mine, a, ShopHealth::KeysRefused, Some("401"), T0 + 11)
        .await
        .unwrap();
    let shop = s.get_shop(mine).await.unwrap().unwrap();
    assert_eq!(
        (shop.health, shop.last_error.as_deref()),
        (ShopHealth::KeysRefused, Some("401"))
    );

    s.record_shop_health(mine, a, ShopHealth::Ok, Some("ignored"), T0 + 12)
        .await
        .unwrap();
    let shop = s.get_shop(mine).await.unwrap().unwrap();
    assert_eq!(
        (shop.health, shop.last_error, shop.last_success_at_ms),
        (ShopHealth::Ok, None, Some(T0 + 12))
    );

    assert_eq!(
        s.shops_due_for_health_check(T0 + 1, 10).await.unwrap(),
        vec![],
        "checked at T0 + 1 is not before T0 + 1"
    );
    assert_eq!(
        s.shops_due_for_health_check(T0 + 5, 10).await.unwrap(),
        vec![(theirs, b)]
    );
    assert_eq!(
        s.shops_due_for_health_check(T0 + 20, 10).await.unwrap(),
        vec![(theirs, b), (mine, a)]
    );
    assert_eq!(
        s.shops_due_for_health_check(T0 + 20, 1).await.unwrap(),
        vec![(theirs, b)]
    );
    let unknown = s
        .record_shop_health(mine, ShopId::new(), ShopHealth::Ok, None, T0)
        .await;
    assert!(
        matches!(unknown, Err(StorageError::NotFound)),
        "{unknown:?}"
    );
}

async fn registered_webhooks_are_replaced_as_a_list(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let id = s.connect_shop(ws, &new_shop("demo"), T0).await.unwrap().id;
    assert_eq!(s.shop_webhooks(ws, id).await.unwrap(), vec![]);

    let first = [
        registered("product.updated", 11),
        registered("order.created", 12),
        registered("product.created", 10),
    ];
    s.set_shop_webhooks(ws, id, &first, T0 + 1).await.unwrap();
    assert_eq!(
        s.shop_webhooks(ws, id).await.unwrap(),
        vec![
            registered("order.created", 12),
            registered("product.created", 10),
            registered("product.updated", 11),
        ],
        "by topic"
    );

    let second = [RegisteredWebhook {
        status: "paused".to_owned(),
        ..registered("product.deleted", 20)
    }];
    s.set_shop_webhooks(ws, id, &second, T0 + 2).await.unwrap();
    assert_eq!(s.shop_webhooks(ws, id).await.unwrap(), second.to_vec());

    // A list that names one webhook twice is refused as a whole.
    let twice = [
        registered("order.created", 30),
        registered("order.updated", 30),
    ];
    let refused = s.set_shop_webhooks(ws, id, &twice, T0 + 3).await;
    assert!(
        matches!(refused, Err(StorageError::Conflict("shop_webhooks_pkey"))),
        "{refused:?}"
    );
    assert_eq!(s.shop_webhooks(ws, id).await.unwrap(), second.to_vec());

    s.set_shop_webhooks(ws, id, &[], T0 + 4).await.unwrap();
    assert_eq!(s.shop_webhooks(ws, id).await.unwrap(), vec![]);
    let unknown = s.set_shop_webhooks(ws, ShopId::new(), &first, T0).await;
    assert!(
        matches!(unknown, Err(StorageError::NotFound)),
        "{unknown:?}"
    );
}

async fn deleting_a_shop_deletes_its_webhooks_and_inbox_rows(s: Storage) {
    const INBOX_ROWS: &str = "SELECT COUNT(*) FROM webhook_inbox WHERE shop_id = $1";
    const WEBHOOK_ROWS: &str = "SELECT COUNT(*) FROM shop_webhooks WHERE shop_id = $1";
    let ws = workspace(&s, "me@example.com").await;
    let id = s.connect_shop(ws, &new_shop("demo"), T0).await.unwrap().id;
    s.set_shop_webhooks(ws, id, &[registered("product.updated", 1)], T0)
        .await
        .unwrap();
    let mut inbox = Vec::new();
    for body in ["{\"a\":1}", "{\"a\":2}"] {
        let WebhookRecord::Recorded(inbox_id) =
            record(&s, ws, id, &incoming("d1", body), T0).await.unwrap()
        else {
            panic!("recorded");
        };
        inbox.push(inbox_id);
    }
    assert_eq!(raw_count(&s, INBOX_ROWS, id.0).await, 2);
    assert_eq!(raw_count(&s, WEBHOOK_ROWS, id.0).await, 1);

    s.delete_shop(ws, id).await.unwrap();
    assert_eq!(s.get_shop(ws).await.unwrap(), None);
    assert_eq!(s.find_shop(id).await.unwrap(), None);
    assert!(matches!(
        s.shop_secrets(ws, id).await,
        Err(StorageError::NotFound)
    ));
    assert_eq!(s.shop_webhooks(ws, id).await.unwrap(), vec![]);
    for inbox_id in inbox {
        assert_eq!(s.get_incoming_webhook(ws, inbox_id).await.unwrap(), None);
    }
    assert_eq!(raw_count(&s, INBOX_ROWS, id.0).await, 0);
    assert_eq!(raw_count(&s, WEBHOOK_ROWS, id.0).await, 0);
    let again = s.delete_shop(ws, id).await;
    assert!(matches!(again, Err(StorageError::NotFound)), "{again:?}");

    let reconnected = s.connect_shop(ws, &new_shop("demo"), T0 + 1).await.unwrap();
    assert_ne!(reconnected.id, id, "a new shop");
}

// ---------------------------------------------------------------- pending shop authorizations

const SHOP_KEY: &str = "ck_pending_PLAINTEXT";
const SHOP_SECRET: &str = "cs_pending_PLAINTEXT";

fn pending_shop(ws: WorkspaceId, token_hash: &[u8]) -> NewPendingShopAuthorization {
    NewPendingShopAuthorization {
        token_hash: token_hash.to_vec(),
        session_id: Uuid::now_v7(),
        workspace_id: ws,
        store_url: "https://demo.example.com".to_owned(),
        created_at_ms: T0,
        expires_at_ms: T0 + 10 * MINUTE,
    }
}

async fn attach(s: &Storage, token_hash: &[u8], key: &str, now_ms: i64) -> bool {
    s.attach_shop_keys(
        token_hash,
        &Secret::new(key),
        &Secret::new(SHOP_SECRET),
        "read_write",
        now_ms,
    )
    .await
    .unwrap()
}

async fn shop_keys_attach_once_and_not_after_expiry(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    s.create_pending_shop_authorization(&pending_shop(ws, b"token-1"))
        .await
        .unwrap();
    assert!(attach(&s, b"token-1", SHOP_KEY, T0 + 1).await);
    assert!(
        !attach(&s, b"token-1", "ck_second", T0 + 2).await,
        "only once"
    );
    assert!(!attach(&s, b"no-such-token", SHOP_KEY, T0).await);

    const RAW: &str =
        "SELECT consumer_key, consumer_secret FROM shop_auth_pending WHERE token_hash = $1";
    let (key, secret): (Vec<u8>, Vec<u8>) = match s.raw_pool() {
        RawPool::Sqlite(p) => sqlx::query_as(RAW)
            .bind(&b"token-1"[..])
            .fetch_one(p)
            .await
            .unwrap(),
        RawPool::Postgres(p) => sqlx::query_as(RAW)
            .bind(&b"token-1"[..])
            .fetch_one(p)
            .await
            .unwrap(),
    };
    assert!(!contains(&key, "PLAINTEXT") && !contains(&secret, "PLAINTEXT"));

    let PendingShopLookup::Taken(taken) = s
        .take_pending_shop_authorization(b"token-1", T0 + 3)
        .await
        .unwrap()
    else {
        panic!("taken");
    };
    let (key, _, _) = taken.keys.unwrap();
    assert_eq!(key.expose(), SHOP_KEY, "the first keys stay");

    // Expired: the keys are refused and the return finds none.
    s.create_pending_shop_authorization(&pending_shop(ws, b"token-2"))
        .await
        .unwrap();
    assert!(!attach(&s, b"token-2", SHOP_KEY, T0 + 10 * MINUTE).await);
    let PendingShopLookup::Taken(expired) = s
        .take_pending_shop_authorization(b"token-2", T0 + 10 * MINUTE)
        .await
        .unwrap()
    else {
        panic!("taken");
    };
    assert_eq!(expired.keys, None);

    // Used: the browser came back first; late keys are refused.
    s.create_pending_shop_authorization(&pending_shop(ws, b"token-3"))
        .await
        .unwrap();
    s.take_pending_shop_authorization(b"token-3", T0 + 1)
        .await
        .unwrap();
    assert!(!attach(&s, b"token-3", SHOP_KEY, T0 + 2).await);

    let duplicate = s
        .create_pending_shop_authorization(&pending_shop(ws, b"token-3"))
        .await;
    assert!(
        matches!(duplicate, Err(StorageError::Conflict(_))),
        "{duplicate:?}"
    );
    let orphan = s
        .create_pending_shop_authorization(&pending_shop(WorkspaceId::new(), b"token-4"))
        .await;
    assert!(matches!(orphan, Err(StorageError::NotFound)), "{orphan:?}");
}

async fn a_pending_shop_authorization_is_taken_once_with_its_keys(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let new = pending_shop(ws, b"token");
    s.create_pending_shop_authorization(&new).await.unwrap();
    assert!(attach(&s, b"token", SHOP_KEY, T0 + 1).await);

    let taken = s
        .take_pending_shop_authorization(b"token", T0 + 2)
        .await
        .unwrap();
    assert_eq!(
        taken,
        PendingShopLookup::Taken(storage::PendingShopAuthorization {
            session_id: new.session_id,
            workspace_id: ws,
            store_url: new.store_url.clone(),
            expires_at_ms: new.expires_at_ms,
            keys: Some((
                Secret::new(SHOP_KEY),
                Secret::new(SHOP_SECRET),
                "read_write".to_owned()
            )),
        })
    );
    assert!(
        !format!("{taken:?}").contains("PLAINTEXT"),
        "Debug hides keys"
    );
    assert_eq!(
        s.take_pending_shop_authorization(b"token", T0 + 3)
            .await
            .unwrap(),
        PendingShopLookup::Replayed
    );
    assert_eq!(
        s.take_pending_shop_authorization(b"other", T0)
            .await
            .unwrap(),
        PendingShopLookup::Unknown
    );

    s.create_pending_shop_authorization(&pending_shop(ws, b"unused"))
        .await
        .unwrap();
    assert_eq!(
        s.delete_expired_pending_shop_authorizations(T0 + 10 * MINUTE - 1)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.delete_expired_pending_shop_authorizations(T0 + 10 * MINUTE)
            .await
            .unwrap(),
        2,
        "used or not"
    );
    assert_eq!(
        s.take_pending_shop_authorization(b"unused", T0)
            .await
            .unwrap(),
        PendingShopLookup::Unknown
    );
}

// ---------------------------------------------------------------- webhook inbox

async fn an_incoming_webhook_is_recorded_once_with_its_job(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let shop = s.connect_shop(ws, &new_shop("demo"), T0).await.unwrap().id;
    let stock_1 = incoming("delivery-1", "{\"id\":42,\"stock_quantity\":1}");
    let WebhookRecord::Recorded(first) = record(&s, ws, shop, &stock_1, T0 + 5).await.unwrap()
    else {
        panic!("a first delivery is recorded");
    };

    assert_eq!(
        record(&s, ws, shop, &stock_1, T0 + 6).await.unwrap(),
        WebhookRecord::Duplicate
    );
    assert_eq!(
        job_payloads(&s, WEBHOOK_FLOW).await,
        vec![json!({ "inbox_id": first.to_string(), "shop_id": shop.to_string() })],
        "no second job for a redelivery"
    );
    assert_eq!(
        s.get_shop(ws).await.unwrap().unwrap().last_webhook_at_ms,
        Some(T0 + 5),
        "a redelivery writes nothing"
    );

    // Same delivery id (same webhook, same second), another event.
    let stock_2 = incoming("delivery-1", "{\"id\":42,\"stock_quantity\":2}");
    let WebhookRecord::Recorded(second) = record(&s, ws, shop, &stock_2, T0 + 7).await.unwrap()
    else {
        panic!("another body is another delivery");
    };
    assert_ne!(second, first);
    assert_eq!(
        job_payloads(&s, WEBHOOK_FLOW).await,
        vec![
            json!({ "inbox_id": first.to_string(), "shop_id": shop.to_string() }),
            json!({ "inbox_id": second.to_string(), "shop_id": shop.to_string() }),
        ]
    );
    assert_eq!(
        s.get_shop(ws).await.unwrap().unwrap().last_webhook_at_ms,
        Some(T0 + 7)
    );

    let job = s
        .claim_job(Uuid::now_v7(), T0 + 7, MINUTE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (job.workspace_id, job.flow.as_str(), job.max_attempts),
        (Some(ws), WEBHOOK_FLOW, WEBHOOK_JOB_MAX_ATTEMPTS)
    );
    assert_eq!(job.payload["inbox_id"], json!(first.to_string()));

    let entry = s.get_incoming_webhook(ws, first).await.unwrap().unwrap();
    assert_eq!(
        entry,
        storage::InboxEntry {
            id: first,
            shop_id: shop,
            topic: "product.updated".to_owned(),
            resource_id: Some(42),
            body: stock_1.body.clone(),
            received_at_ms: T0 + 5,
            processed_at_ms: None,
        }
    );
    assert_eq!(
        s.webhook_counts(ws, shop).await.unwrap(),
        WebhookCounts {
            received: 2,
            processed: 0
        }
    );
    s.mark_webhook_processed(ws, first, T0 + 8).await.unwrap();
    s.mark_webhook_processed(ws, first, T0 + 9).await.unwrap();
    assert_eq!(
        s.get_incoming_webhook(ws, first)
            .await
            .unwrap()
            .unwrap()
            .processed_at_ms,
        Some(T0 + 8),
        "the first time is kept"
    );
    assert_eq!(
        s.webhook_counts(ws, shop).await.unwrap(),
        WebhookCounts {
            received: 2,
            processed: 1
        }
    );
    let unknown = s.mark_webhook_processed(ws, Uuid::now_v7(), T0).await;
    assert!(
        matches!(unknown, Err(StorageError::NotFound)),
        "{unknown:?}"
    );
    let no_shop = record(&s, ws, ShopId::new(), &stock_1, T0).await;
    assert!(
        matches!(no_shop, Err(StorageError::NotFound)),
        "{no_shop:?}"
    );
    assert_eq!(job_payloads(&s, WEBHOOK_FLOW).await.len(), 2);
}

// ---------------------------------------------------------------- workspaces

async fn workspace_settings_default_until_saved(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let defaults = WorkspaceSettings {
        sync_products: true,
        import_orders: true,
        saved_at_ms: None,
    };
    assert_eq!(s.workspace_settings(mine).await.unwrap(), defaults);

    let off = WorkspaceSettings {
        sync_products: false,
        import_orders: true,
        saved_at_ms: Some(1),
    };
    s.save_workspace_settings(mine, &off, T0 + 1).await.unwrap();
    assert_eq!(
        s.workspace_settings(mine).await.unwrap(),
        WorkspaceSettings {
            saved_at_ms: Some(T0 + 1),
            ..off
        }
    );
    let flipped = WorkspaceSettings {
        sync_products: true,
        import_orders: false,
        saved_at_ms: None,
    };
    s.save_workspace_settings(mine, &flipped, T0 + 2)
        .await
        .unwrap();
    assert_eq!(
        s.workspace_settings(mine).await.unwrap(),
        WorkspaceSettings {
            saved_at_ms: Some(T0 + 2),
            ..flipped
        }
    );
    assert_eq!(s.workspace_settings(theirs).await.unwrap(), defaults);

    let orphan = s
        .save_workspace_settings(WorkspaceId::new(), &off, T0)
        .await;
    assert!(matches!(orphan, Err(StorageError::NotFound)), "{orphan:?}");
}

async fn a_workspace_is_marked_onboarded_once(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    assert_eq!(
        s.workspace(ws).await.unwrap(),
        Some(storage::Workspace {
            id: ws,
            created_at_ms: T0,
            onboarded_at_ms: None
        })
    );
    s.mark_onboarded(ws, T0 + 1).await.unwrap();
    s.mark_onboarded(ws, T0 + 2).await.unwrap();
    assert_eq!(
        s.workspace(ws).await.unwrap().unwrap().onboarded_at_ms,
        Some(T0 + 1)
    );
    assert_eq!(s.workspace(WorkspaceId::new()).await.unwrap(), None);
    let unknown = s.mark_onboarded(WorkspaceId::new(), T0).await;
    assert!(
        matches!(unknown, Err(StorageError::NotFound)),
        "{unknown:?}"
    );
}

async fn a_channel_records_its_last_success(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let id = channel(&s, mine, ChannelStatus::Live).await;
    assert_eq!(
        s.get_channel(mine, id)
            .await
            .unwrap()
            .unwrap()
            .last_success_at_ms,
        None
    );
    s.record_channel_success(mine, id, T0 + 1).await.unwrap();
    let channel = s.get_channel(mine, id).await.unwrap().unwrap();
    assert_eq!(
        (channel.last_success_at_ms, channel.updated_at_ms),
        (Some(T0 + 1), T0 + 1)
    );
    let foreign = s.record_channel_success(theirs, id, T0 + 2).await;
    assert!(
        matches!(foreign, Err(StorageError::NotFound)),
        "{foreign:?}"
    );
    assert_eq!(
        s.get_channel(mine, id)
            .await
            .unwrap()
            .unwrap()
            .last_success_at_ms,
        Some(T0 + 1)
    );
}

// ---------------------------------------------------------------- catalog

fn catalog_row(sku: &str, product: i64, title: &str, data: &str, seen_at_ms: i64) -> CatalogRow {
    CatalogRow {
        sku: sku.to_owned(),
        shop_product_id: product,
        shop_variation_id: None,
        title: title.to_owned(),
        data: data.to_owned(),
        modified_at_ms: T0,
        seen_at_ms,
        deleted_at_ms: None,
    }
}

fn skus(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Every item of the catalog, read page by page.
async fn whole_catalog(s: &Storage, ws: WorkspaceId, include_deleted: bool) -> Vec<CatalogRow> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = s
            .catalog_page(ws, after.as_deref(), 100, include_deleted)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.sku.clone());
        all.extend(page);
    }
    all
}

async fn catalog_upserts_count_only_changed_items(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let rows = vec![
        catalog_row("A", 1, "Apple", r#"{"price":"1.00"}"#, T0),
        catalog_row("B", 2, "Banana", r#"{"price":"2.00"}"#, T0),
        CatalogRow {
            shop_variation_id: Some(31),
            ..catalog_row("C", 3, "Cherry", r#"{"price":"3.00"}"#, T0)
        },
    ];
    assert_eq!(s.upsert_catalog_items(ws, &rows).await.unwrap(), 3);
    assert_eq!(s.catalog_count(ws).await.unwrap(), 3);
    assert_eq!(whole_catalog(&s, ws, false).await, rows);

    // Read again: nothing changed, so only the time it was seen moves.
    let again: Vec<CatalogRow> = rows
        .iter()
        .map(|row| CatalogRow {
            modified_at_ms: T0 + 5,
            seen_at_ms: T0 + 1,
            ..row.clone()
        })
        .collect();
    assert_eq!(s.upsert_catalog_items(ws, &again).await.unwrap(), 0);
    let stored = whole_catalog(&s, ws, false).await;
    assert!(
        stored.iter().all(|row| row.seen_at_ms == T0 + 1),
        "{stored:?}"
    );
    assert!(
        stored.iter().all(|row| row.modified_at_ms == T0),
        "{stored:?}"
    );

    // A new price is a change; an older read does not move `seen_at_ms` back.
    let cherry = CatalogRow {
        data: r#"{"price":"3.50"}"#.to_owned(),
        modified_at_ms: T0 + 2,
        seen_at_ms: T0 + 2,
        ..rows[2].clone()
    };
    let stale = CatalogRow {
        seen_at_ms: T0,
        ..rows[0].clone()
    };
    assert_eq!(
        s.upsert_catalog_items(ws, &[cherry.clone(), stale])
            .await
            .unwrap(),
        1
    );
    let stored = whole_catalog(&s, ws, false).await;
    assert_eq!(stored[2], cherry);
    assert_eq!(stored[0].seen_at_ms, T0 + 1);

    // A SKU listed twice: the last one wins.
    let first = catalog_row("D", 4, "Date", r#"{"v":1}"#, T0 + 3);
    let second = catalog_row("D", 4, "Date", r#"{"v":2}"#, T0 + 3);
    assert_eq!(
        s.upsert_catalog_items(ws, &[first, second.clone()])
            .await
            .unwrap(),
        1
    );
    assert_eq!(s.catalog_items_by_product(ws, 4).await.unwrap(), [second]);
    assert_eq!(s.upsert_catalog_items(ws, &[]).await.unwrap(), 0);

    let orphan = s.upsert_catalog_items(WorkspaceId::new(), &rows).await;
    assert!(matches!(orphan, Err(StorageError::NotFound)), "{orphan:?}");
}

async fn catalog_pages_walk_every_item_once_in_byte_order(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    // More than one statement's worth of rows, written in one call.
    let mut rows: Vec<CatalogRow> = (0..1_234)
        .map(|n| catalog_row(&format!("SKU-{n:05}"), n, "Item", "{}", T0))
        .collect();
    for sku in ["a-lower", "B-upper", "Z"] {
        rows.push(catalog_row(sku, 9_999, "Odd one", "{}", T0));
    }
    assert_eq!(s.upsert_catalog_items(ws, &rows).await.unwrap(), 1_237);

    let mut expected: Vec<String> = rows.iter().map(|row| row.sku.clone()).collect();
    expected.sort();
    let walked: Vec<String> = whole_catalog(&s, ws, false)
        .await
        .into_iter()
        .map(|row| row.sku)
        .collect();
    assert_eq!(walked, expected, "every item once, in byte order");
    assert_eq!(walked[0], "B-upper", "upper case before lower case");
    assert_eq!(walked[1_236], "a-lower");

    let deleted = skus(&["SKU-00000", "SKU-00500", "SKU-01233"]);
    assert_eq!(
        s.mark_catalog_deleted(ws, &deleted, T0 + 1).await.unwrap(),
        3
    );
    assert_eq!(whole_catalog(&s, ws, false).await.len(), 1_234);
    assert_eq!(whole_catalog(&s, ws, true).await.len(), 1_237);
    let page = s
        .catalog_page(ws, Some("SKU-00499"), 2, false)
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|row| row.sku.as_str()).collect::<Vec<_>>(),
        ["SKU-00501", "SKU-00502"],
        "a deleted item is skipped"
    );
    let page = s
        .catalog_page(ws, Some("SKU-00499"), 2, true)
        .await
        .unwrap();
    assert_eq!(page[0].sku, "SKU-00500");
    assert_eq!(page[0].deleted_at_ms, Some(T0 + 1));
    assert!(
        s.catalog_page(ws, Some("a-lower"), 10, true)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn items_gone_from_the_shop_are_marked_deleted(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let variation = |sku: &str, id: i64| CatalogRow {
        shop_variation_id: Some(id),
        ..catalog_row(sku, 10, "Shirt", "{}", T0)
    };
    let rows = vec![
        variation("SHIRT-S", 11),
        variation("SHIRT-M", 12),
        catalog_row("MUG", 20, "Mug", "{}", T0),
        catalog_row("CAP", 30, "Cap", "{}", T0),
    ];
    s.upsert_catalog_items(ws, &rows).await.unwrap();

    let gone = skus(&["SHIRT-M", "NEVER-SEEN"]);
    assert_eq!(s.mark_catalog_deleted(ws, &gone, T0 + 1).await.unwrap(), 1);
    assert_eq!(s.mark_catalog_deleted(ws, &gone, T0 + 2).await.unwrap(), 0);
    assert_eq!(s.catalog_count(ws).await.unwrap(), 3);
    let shirt = s.catalog_items_by_product(ws, 10).await.unwrap();
    assert_eq!(
        shirt
            .iter()
            .map(|row| (row.sku.as_str(), row.shop_variation_id, row.deleted_at_ms))
            .collect::<Vec<_>>(),
        [
            ("SHIRT-M", Some(12), Some(T0 + 1)),
            ("SHIRT-S", Some(11), None)
        ],
        "deleted variations are listed too, with the first deletion time"
    );

    // Back in the shop: the upsert is a change and clears the deletion.
    let back = CatalogRow {
        seen_at_ms: T0 + 3,
        ..rows[1].clone()
    };
    assert_eq!(s.upsert_catalog_items(ws, &[back]).await.unwrap(), 1);
    assert_eq!(s.catalog_count(ws).await.unwrap(), 4);

    // A full read started at T0 + 10 saw the shirt sizes only: the rest is gone.
    let seen: Vec<CatalogRow> = rows[..2]
        .iter()
        .map(|row| CatalogRow {
            seen_at_ms: T0 + 10,
            ..row.clone()
        })
        .collect();
    s.upsert_catalog_items(ws, &seen).await.unwrap();
    assert_eq!(
        s.mark_catalog_unseen_deleted(ws, T0 + 10, T0 + 11)
            .await
            .unwrap(),
        2
    );
    assert_eq!(s.catalog_count(ws).await.unwrap(), 2);
    let live: Vec<String> = whole_catalog(&s, ws, false)
        .await
        .into_iter()
        .map(|row| row.sku)
        .collect();
    assert_eq!(live, ["SHIRT-M", "SHIRT-S"]);
    assert_eq!(
        s.catalog_items_by_product(ws, 20).await.unwrap()[0].deleted_at_ms,
        Some(T0 + 11)
    );
}

async fn catalog_items_are_only_seen_from_their_workspace(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    s.upsert_catalog_items(mine, &[catalog_row("SAME", 1, "Mine", "{}", T0)])
        .await
        .unwrap();
    s.upsert_catalog_items(theirs, &[catalog_row("SAME", 1, "Theirs", "{}", T0)])
        .await
        .unwrap();
    s.upsert_catalog_items(mine, &[catalog_row("ONLY-MINE", 2, "Mine", "{}", T0)])
        .await
        .unwrap();

    assert_eq!(s.catalog_count(theirs).await.unwrap(), 1);
    assert_eq!(s.catalog_items_by_product(theirs, 2).await.unwrap(), []);
    assert_eq!(
        s.mark_catalog_deleted(theirs, &skus(&["ONLY-MINE"]), T0)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.mark_catalog_unseen_deleted(theirs, T0 + 1, T0 + 1)
            .await
            .unwrap(),
        1,
        "only their own item"
    );
    assert_eq!(s.catalog_count(mine).await.unwrap(), 2);
    assert_eq!(
        s.catalog_page(mine, None, 10, false).await.unwrap()[1].title,
        "Mine"
    );
}

// ---------------------------------------------------------------- channel items

fn sent(list: &[&str]) -> Vec<(String, Vec<u8>)> {
    list.iter()
        .map(|sku| ((*sku).to_owned(), format!("hash-of-{sku}").into_bytes()))
        .collect()
}

fn errors(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(sku, message)| ((*sku).to_owned(), (*message).to_owned()))
        .collect()
}

async fn item(s: &Storage, ws: WorkspaceId, channel: ChannelId, sku: &str) -> ChannelItem {
    let mut items = s
        .channel_items_for(ws, channel, &skus(&[sku]))
        .await
        .unwrap();
    assert_eq!(items.len(), 1, "{sku}: {items:?}");
    items.remove(0)
}

async fn a_failed_import_puts_its_items_in_error_to_be_sent_again(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let id = channel(&s, ws, ChannelStatus::Live).await;
    s.record_sent(ws, id, &sent(&["A", "B", "C"]), Some("2044"), T0)
        .await
        .unwrap();
    s.record_sent(ws, id, &sent(&["D"]), Some("2045"), T0)
        .await
        .unwrap();
    s.record_products_sent(ws, id, &sent(&["A", "B"]), "P41-1", T0)
        .await
        .unwrap();

    // Another workspace cannot settle them.
    let nothing = s
        .record_import_outcome(
            Ledger::Items,
            theirs,
            id,
            "2044",
            &[],
            ImportOutcome::Failed("no"),
            T0 + 1,
        )
        .await
        .unwrap();
    assert_eq!(nothing, ImportOutcomeCounts::default());

    let report = errors(&[("B", "price is missing")]);
    for now in [T0 + 1, T0 + 2] {
        let counts = s
            .record_import_outcome(
                Ledger::Items,
                ws,
                id,
                "2044",
                &report,
                ImportOutcome::Failed("The file could not be read"),
                now,
            )
            .await
            .unwrap();
        let expected = match now {
            n if n == T0 + 1 => ImportOutcomeCounts { live: 0, errors: 3 },
            // Again: B is still the report's, A and C are no longer `sent`.
            _ => ImportOutcomeCounts { live: 0, errors: 1 },
        };
        assert_eq!(counts, expected, "at {now}");
    }
    let a = item(&s, ws, id, "A").await;
    assert_eq!(
        (a.state, a.error.as_deref(), a.sent_hash.as_deref()),
        (ItemState::Error, Some("The file could not be read"), None),
        "sent again by the next export"
    );
    let b = item(&s, ws, id, "B").await;
    assert_eq!(
        (b.state, b.error.as_deref()),
        (ItemState::Error, Some("price is missing"))
    );
    assert_eq!(
        item(&s, ws, id, "D").await.state,
        ItemState::Sent,
        "another import"
    );

    let counts = s
        .record_import_outcome(
            Ledger::Products,
            ws,
            id,
            "P41-1",
            &[],
            ImportOutcome::Failed("CANCELLED"),
            T0 + 3,
        )
        .await
        .unwrap();
    assert_eq!(counts, ImportOutcomeCounts { live: 0, errors: 2 });
    let products = s
        .channel_products_for(ws, id, &skus(&["A", "B"]))
        .await
        .unwrap();
    assert!(
        products.iter().all(|p| p.state == ItemState::Error
            && p.sent_hash.is_none()
            && p.error.as_deref() == Some("CANCELLED")),
        "{products:?}"
    );
}

async fn a_sent_item_goes_live_or_fails_with_its_import(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let id = channel(&s, ws, ChannelStatus::Live).await;
    s.record_sent(ws, id, &sent(&["A", "B", "C"]), Some("2044"), T0)
        .await
        .unwrap();
    let items = s
        .channel_items_for(ws, id, &skus(&["C", "A", "B", "NEVER-SENT"]))
        .await
        .unwrap();
    assert_eq!(
        items[0],
        ChannelItem {
            sku: "A".to_owned(),
            sent_hash: Some(b"hash-of-A".to_vec()),
            state: ItemState::Sent,
            error: None,
            import_id: Some("2044".to_owned()),
            sent_at_ms: Some(T0),
            live_at_ms: None,
            updated_at_ms: T0,
        }
    );
    assert_eq!(
        items.iter().map(|i| i.sku.as_str()).collect::<Vec<_>>(),
        ["A", "B", "C"],
        "in SKU order, unsent SKUs left out"
    );

    // The error report names B twice and a SKU that was not in the import.
    let report = errors(&[
        ("B", "price is missing"),
        ("B", "state is unknown"),
        ("ELSEWHERE", "not in this import"),
    ]);
    let counts = s
        .record_import_outcome(
            Ledger::Items,
            ws,
            id,
            "2044",
            &report,
            ImportOutcome::Finished,
            T0 + 1,
        )
        .await
        .unwrap();
    assert_eq!(counts, ImportOutcomeCounts { live: 2, errors: 1 });
    let b = item(&s, ws, id, "B").await;
    assert_eq!(
        (b.state, b.error.as_deref(), b.sent_hash.as_deref()),
        (
            ItemState::Error,
            Some("price is missing; state is unknown"),
            Some(&b"hash-of-B"[..])
        )
    );
    let a = item(&s, ws, id, "A").await;
    assert_eq!((a.state, a.live_at_ms), (ItemState::Live, Some(T0 + 1)));

    // The same result again changes nothing.
    let again = s
        .record_import_outcome(
            Ledger::Items,
            ws,
            id,
            "2044",
            &report,
            ImportOutcome::Finished,
            T0 + 2,
        )
        .await
        .unwrap();
    assert_eq!(again, counts);
    assert_eq!(item(&s, ws, id, "A").await.live_at_ms, Some(T0 + 1));

    // A sent again in a newer import: the old import's result no longer touches it, and it
    // keeps its last live time (the channel still shows the old offer).
    s.record_sent(ws, id, &sent(&["A"]), Some("2045"), T0 + 3)
        .await
        .unwrap();
    let late = s
        .record_import_outcome(
            Ledger::Items,
            ws,
            id,
            "2044",
            &[],
            ImportOutcome::Finished,
            T0 + 4,
        )
        .await
        .unwrap();
    assert_eq!(late, ImportOutcomeCounts { live: 1, errors: 0 }, "C only");
    let a = item(&s, ws, id, "A").await;
    assert_eq!(
        (a.state, a.import_id.as_deref(), a.live_at_ms),
        (ItemState::Sent, Some("2045"), Some(T0 + 1))
    );

    // Sent again without an import (Mirakl Connect): live at once, the error cleared.
    s.record_sent(ws, id, &sent(&["B", "D"]), None, T0 + 5)
        .await
        .unwrap();
    for sku in ["B", "D"] {
        let applied = item(&s, ws, id, sku).await;
        assert_eq!(
            (
                applied.state,
                applied.error,
                applied.import_id,
                applied.live_at_ms
            ),
            (ItemState::Live, None, None, Some(T0 + 5)),
            "{sku}"
        );
    }
}

async fn item_errors_forgotten_hashes_and_removals_set_the_state(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let id = channel(&s, ws, ChannelStatus::Live).await;
    s.record_sent(
        ws,
        id,
        &sent(&["LIVE", "DRIFT", "GONE", "NO-PRICE"]),
        None,
        T0,
    )
    .await
    .unwrap();
    s.record_sent(ws, id, &sent(&["PENDING"]), Some("7"), T0)
        .await
        .unwrap();

    s.record_item_errors(
        ws,
        id,
        &errors(&[("NO-PRICE", "no price"), ("NO-GTIN", "no GTIN")]),
        T0 + 1,
    )
    .await
    .unwrap();
    let no_price = item(&s, ws, id, "NO-PRICE").await;
    assert_eq!(
        (
            no_price.state,
            no_price.error.as_deref(),
            no_price.sent_hash
        ),
        (ItemState::Error, Some("no price"), None)
    );
    assert_eq!(no_price.live_at_ms, Some(T0), "the last send's times stay");
    assert_eq!(item(&s, ws, id, "NO-GTIN").await.state, ItemState::Error);

    let forgotten = s
        .forget_sent_hashes(ws, id, &skus(&["DRIFT", "NEVER-SENT"]), T0 + 2)
        .await
        .unwrap();
    assert_eq!(forgotten, 1);
    let drift = item(&s, ws, id, "DRIFT").await;
    assert_eq!(
        (drift.state, drift.sent_hash, drift.updated_at_ms),
        (ItemState::Waiting, None, T0 + 2)
    );

    s.mark_removed(ws, id, &skus(&["GONE", "NEVER-SENT"]), T0 + 3)
        .await
        .unwrap();
    let gone = item(&s, ws, id, "GONE").await;
    assert_eq!((gone.state, gone.sent_hash), (ItemState::Removed, None));
    assert!(
        s.channel_items_for(ws, id, &skus(&["NEVER-SENT"]))
            .await
            .unwrap()
            .is_empty()
    );

    assert_eq!(
        s.item_state_counts(ws, id).await.unwrap(),
        [
            (ItemState::Waiting, 1),
            (ItemState::Sent, 1),
            (ItemState::Live, 1),
            (ItemState::Error, 2),
            (ItemState::Removed, 1),
        ]
    );
    // Fixed and sent: the error is gone.
    s.record_sent(ws, id, &sent(&["NO-PRICE"]), None, T0 + 4)
        .await
        .unwrap();
    let fixed = item(&s, ws, id, "NO-PRICE").await;
    assert_eq!((fixed.state, fixed.error), (ItemState::Live, None));
}

async fn a_channel_holds_its_sent_and_live_skus_counted_by_shop_product(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let id = channel(&s, ws, ChannelStatus::Live).await;
    let variation = |sku: &str, product: i64, variation: i64| CatalogRow {
        shop_variation_id: Some(variation),
        ..catalog_row(sku, product, sku, "{}", T0)
    };
    // Product 1 with three variations, product 2 simple, product 3 whose only item failed.
    s.upsert_catalog_items(
        ws,
        &[
            variation("SHIRT-S", 1, 11),
            variation("SHIRT-M", 1, 12),
            variation("SHIRT-L", 1, 13),
            catalog_row("MUG", 2, "Mug", "{}", T0),
            catalog_row("BROKEN", 3, "Broken", "{}", T0),
        ],
    )
    .await
    .unwrap();
    s.record_sent(ws, id, &sent(&["SHIRT-S", "SHIRT-M", "MUG"]), None, T0)
        .await
        .unwrap();
    s.record_sent(ws, id, &sent(&["SHIRT-L", "GONE-FROM-SHOP"]), Some("7"), T0)
        .await
        .unwrap();
    s.record_item_errors(ws, id, &errors(&[("BROKEN", "no price")]), T0)
        .await
        .unwrap();
    assert_eq!(
        s.channel_holdings(ws, id).await.unwrap(),
        storage::ChannelHoldings {
            skus: 5,
            products: 3
        },
        "shirt (3 variations), mug, and a SKU the shop no longer has; not the failed one"
    );
    let other = workspace(&s, "other@example.com").await;
    assert_eq!(
        s.channel_holdings(other, id).await.unwrap(),
        storage::ChannelHoldings::default(),
        "another workspace sees nothing"
    );
}

async fn channel_items_are_paged_and_scoped_by_workspace(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let id = channel(&s, mine, ChannelStatus::Live).await;
    let all: Vec<String> = (0..1_100).map(|n| format!("SKU-{n:05}")).collect();
    let items: Vec<(String, Vec<u8>)> = all.iter().map(|sku| (sku.clone(), vec![1])).collect();
    s.record_sent(mine, id, &items, Some("1"), T0)
        .await
        .unwrap();

    let mut walked = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = s
            .channel_items_page(mine, id, after.as_deref(), 250)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.sku.clone());
        walked.extend(page.into_iter().map(|i| i.sku));
    }
    assert_eq!(walked, all);
    let mut reversed = all.clone();
    reversed.reverse();
    let found: Vec<String> = s
        .channel_items_for(mine, id, &reversed)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.sku)
        .collect();
    assert_eq!(
        found, all,
        "more SKUs than one statement takes, in SKU order"
    );

    // Another workspace neither sees nor touches the channel's rows.
    let not_found = |r: Result<(), StorageError>| matches!(r, Err(StorageError::NotFound));
    let existing = sent(&["SKU-00000"]);
    assert!(not_found(
        s.record_sent(theirs, id, &existing, None, T0).await
    ));
    assert!(not_found(
        s.record_item_errors(theirs, id, &errors(&[("SKU-00000", "x")]), T0)
            .await
    ));
    assert!(
        s.channel_items_for(theirs, id, &all[..3])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.channel_items_page(theirs, id, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.forget_sent_hashes(theirs, id, &all[..3], T0)
            .await
            .unwrap(),
        0
    );
    s.mark_removed(theirs, id, &all[..3], T0).await.unwrap();
    a_foreign_result_changes_nothing(&s, Ledger::Items, theirs, mine, id, 1_100).await;
}

// ---------------------------------------------------------------- products page

async fn the_products_page_filters_by_text_channel_and_state(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let live = channel(&s, ws, ChannelStatus::Live).await;
    let pending = s
        .create_channel(ws, &marketplace("Not launched"), T0 + 1)
        .await
        .unwrap()
        .id;
    s.upsert_catalog_items(
        ws,
        &[
            catalog_row("SHIRT-BLUE", 1, "Blue shirt", "{}", T0),
            catalog_row("SHIRT-RED", 2, "Red shirt", "{}", T0),
            catalog_row("MUG-1", 3, "Coffee mug 50% off", "{}", T0),
            catalog_row("GONE", 4, "Gone shirt", "{}", T0),
        ],
    )
    .await
    .unwrap();
    s.mark_catalog_deleted(ws, &skus(&["GONE"]), T0)
        .await
        .unwrap();
    s.record_sent(ws, live, &sent(&["SHIRT-BLUE"]), None, T0)
        .await
        .unwrap();
    s.record_item_errors(ws, live, &errors(&[("MUG-1", "no GTIN")]), T0)
        .await
        .unwrap();
    s.record_sent(ws, pending, &sent(&["SHIRT-RED"]), Some("9"), T0)
        .await
        .unwrap();

    let view = |filter: ProductsFilter| {
        let s = s.clone();
        async move { s.products_view(ws, &filter).await.unwrap() }
    };
    let all = ProductsFilter {
        limit: 10,
        ..ProductsFilter::default()
    };
    let sku_list = |views: &[ProductView]| views.iter().map(|v| v.sku.clone()).collect::<Vec<_>>();

    let everything = view(all.clone()).await;
    assert_eq!(
        everything,
        [
            ProductView {
                sku: "MUG-1".to_owned(),
                title: "Coffee mug 50% off".to_owned(),
                shop_product_id: 3,
                states: vec![(live, ItemState::Error, Some("no GTIN".to_owned()))],
            },
            ProductView {
                sku: "SHIRT-BLUE".to_owned(),
                title: "Blue shirt".to_owned(),
                shop_product_id: 1,
                states: vec![(live, ItemState::Live, None)],
            },
            ProductView {
                sku: "SHIRT-RED".to_owned(),
                title: "Red shirt".to_owned(),
                shop_product_id: 2,
                // Never sent to the live channel: waiting there.
                states: vec![
                    (live, ItemState::Waiting, None),
                    (pending, ItemState::Sent, None)
                ],
            },
        ],
        "deleted items left out, channels oldest first"
    );

    let search = |text: &str| ProductsFilter {
        search: Some(text.to_owned()),
        ..all.clone()
    };
    assert_eq!(
        sku_list(&view(search("SHIRT")).await),
        ["SHIRT-BLUE", "SHIRT-RED"]
    );
    assert_eq!(
        sku_list(&view(search("blue")).await),
        ["SHIRT-BLUE"],
        "by title"
    );
    assert_eq!(sku_list(&view(search("mug-")).await), ["MUG-1"], "by SKU");
    assert_eq!(sku_list(&view(search("%")).await), ["MUG-1"], "% is itself");
    assert_eq!(
        sku_list(&view(search("  ")).await).len(),
        3,
        "blank: no filter"
    );

    let in_state = |state: ItemState, channel: Option<ChannelId>| ProductsFilter {
        state: Some(state),
        channel,
        ..all.clone()
    };
    assert_eq!(
        sku_list(&view(in_state(ItemState::Waiting, None)).await),
        ["SHIRT-RED"]
    );
    assert_eq!(
        sku_list(&view(in_state(ItemState::Error, None)).await),
        ["MUG-1"]
    );
    assert_eq!(
        sku_list(&view(in_state(ItemState::Sent, None)).await),
        ["SHIRT-RED"]
    );
    assert_eq!(
        view(in_state(ItemState::Waiting, Some(pending))).await,
        [],
        "a channel not launched shows no waiting items"
    );
    assert_eq!(view(in_state(ItemState::Sent, Some(live))).await, []);

    let on_live = view(ProductsFilter {
        channel: Some(live),
        ..all.clone()
    })
    .await;
    assert_eq!(on_live.len(), 3);
    assert_eq!(on_live[2].states, [(live, ItemState::Waiting, None)]);

    let first = view(ProductsFilter {
        limit: 2,
        ..all.clone()
    })
    .await;
    assert_eq!(sku_list(&first), ["MUG-1", "SHIRT-BLUE"]);
    let next = view(ProductsFilter {
        limit: 2,
        after_sku: Some("SHIRT-BLUE".to_owned()),
        ..all.clone()
    })
    .await;
    assert_eq!(sku_list(&next), ["SHIRT-RED"]);

    let theirs = workspace(&s, "them@example.com").await;
    assert_eq!(s.products_view(theirs, &all).await.unwrap(), []);
}

// ---------------------------------------------------------------- product settings

async fn product_settings_and_channel_overrides_are_saved(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let id = channel(&s, mine, ChannelStatus::Live).await;
    assert_eq!(s.product_settings(mine).await.unwrap(), None);
    assert_eq!(s.channel_overrides(mine, id).await.unwrap(), None);

    let by_gtin = ProductSettings::default();
    let by_sku = ProductSettings {
        product_id_type: ProductIdType::ShopSku,
        ..ProductSettings::default()
    };
    s.save_product_settings(mine, &by_gtin, T0).await.unwrap();
    s.save_product_settings(mine, &by_sku, T0 + 1)
        .await
        .unwrap();
    assert_eq!(
        s.product_settings(mine).await.unwrap(),
        Some(by_sku.clone())
    );
    let overrides = |state: &str| ChannelOverrides {
        offer_state: Some(state.to_owned()),
        ..ChannelOverrides::default()
    };
    s.save_channel_overrides(mine, id, &overrides("10"), T0)
        .await
        .unwrap();
    s.save_channel_overrides(mine, id, &overrides("11"), T0 + 1)
        .await
        .unwrap();
    assert_eq!(
        s.channel_overrides(mine, id).await.unwrap(),
        Some(overrides("11"))
    );
    assert_eq!(
        s.product_settings(mine).await.unwrap(),
        Some(by_sku),
        "overrides are apart from the workspace's settings"
    );

    assert_eq!(s.product_settings(theirs).await.unwrap(), None);
    assert_eq!(s.channel_overrides(theirs, id).await.unwrap(), None);
    let foreign = s
        .save_channel_overrides(theirs, id, &ChannelOverrides::default(), T0 + 2)
        .await;
    assert!(
        matches!(foreign, Err(StorageError::NotFound)),
        "{foreign:?}"
    );
    let orphan = s
        .save_product_settings(WorkspaceId::new(), &by_gtin, T0)
        .await;
    assert!(matches!(orphan, Err(StorageError::NotFound)), "{orphan:?}");
    assert_eq!(
        s.channel_overrides(mine, id).await.unwrap(),
        Some(overrides("11"))
    );
}

// ---------------------------------------------------------------- products created by P41

async fn a_channel_mapping_is_saved_replaced_and_deleted(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let id = channel(&s, mine, ChannelStatus::Live).await;
    let other = channel(&s, mine, ChannelStatus::Live).await;
    assert_eq!(s.channel_mapping(mine, id).await.unwrap(), None);

    let mapping = |category: &str| ProductMapping {
        default_category: Some(category.to_owned()),
        ..ProductMapping::default()
    };
    s.save_channel_mapping(mine, id, &mapping("shirts"), T0)
        .await
        .unwrap();
    s.save_channel_mapping(mine, id, &mapping("mugs"), T0 + 1)
        .await
        .unwrap();
    assert_eq!(
        s.channel_mapping(mine, id).await.unwrap(),
        Some(mapping("mugs")),
        "the last save wins"
    );
    assert_eq!(
        s.channel_mapping(mine, other).await.unwrap(),
        None,
        "one mapping per channel"
    );

    // Another workspace neither sees, replaces nor deletes it.
    assert_eq!(s.channel_mapping(theirs, id).await.unwrap(), None);
    let foreign = s
        .save_channel_mapping(theirs, id, &ProductMapping::default(), T0 + 2)
        .await;
    assert!(
        matches!(foreign, Err(StorageError::NotFound)),
        "{foreign:?}"
    );
    let unknown = s
        .save_channel_mapping(mine, ChannelId::new(), &ProductMapping::default(), T0)
        .await;
    assert!(
        matches!(unknown, Err(StorageError::NotFound)),
        "{unknown:?}"
    );
    s.delete_channel_mapping(theirs, id).await.unwrap();
    assert_eq!(
        s.channel_mapping(mine, id).await.unwrap(),
        Some(mapping("mugs"))
    );

    s.delete_channel_mapping(mine, id).await.unwrap();
    s.delete_channel_mapping(mine, id).await.unwrap();
    assert_eq!(s.channel_mapping(mine, id).await.unwrap(), None);
}

/// Each listed product's SKU, state and error, in SKU order (unsent SKUs left out).
async fn products(
    s: &Storage,
    ws: WorkspaceId,
    channel: ChannelId,
    list: &[&str],
) -> Vec<(String, ItemState, Option<String>)> {
    s.channel_products_for(ws, channel, &skus(list))
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.sku, p.state, p.error))
        .collect()
}

fn product_states(
    list: &[(&str, ItemState, Option<&str>)],
) -> Vec<(String, ItemState, Option<String>)> {
    list.iter()
        .map(|(sku, state, error)| ((*sku).to_owned(), *state, error.map(str::to_owned)))
        .collect()
}

async fn a_sent_product_goes_live_or_fails_with_its_import(s: Storage) {
    use ItemState::{Error, Live, Sent, Waiting};
    const ALL: [&str; 5] = ["A", "B", "C", "D", "NEVER-SENT"];
    let ws = workspace(&s, "me@example.com").await;
    let id = channel(&s, ws, ChannelStatus::Live).await;
    s.record_products_sent(ws, id, &sent(&["A", "B", "C"]), "P41-1", T0)
        .await
        .unwrap();
    s.record_product_errors(ws, id, &errors(&[("D", "It has no brand")]), T0)
        .await
        .unwrap();
    assert_eq!(
        products(&s, ws, id, &ALL).await,
        product_states(&[
            ("A", Sent, None),
            ("B", Sent, None),
            ("C", Sent, None),
            ("D", Error, Some("It has no brand")),
        ])
    );
    let a = &s.channel_products_for(ws, id, &skus(&["A"])).await.unwrap()[0];
    assert_eq!(
        (a.sent_hash.as_deref(), a.import_id.as_deref(), a.sent_at_ms),
        (Some(&b"hash-of-A"[..]), Some("P41-1"), Some(T0))
    );

    let report = errors(&[
        ("B", "The attribute 'brand' is required"),
        ("B", "The category 'x' does not exist"),
    ]);
    let settled = product_states(&[
        ("A", Live, None),
        (
            "B",
            Error,
            Some("The attribute 'brand' is required; The category 'x' does not exist"),
        ),
        ("C", Live, None),
        ("D", Error, Some("It has no brand")),
    ]);
    for now in [T0 + 1, T0 + 2] {
        let counts = s
            .record_import_outcome(
                Ledger::Products,
                ws,
                id,
                "P41-1",
                &report,
                ImportOutcome::Finished,
                now,
            )
            .await
            .unwrap();
        assert_eq!(
            counts,
            ImportOutcomeCounts { live: 2, errors: 1 },
            "at {now}"
        );
        assert_eq!(
            products(&s, ws, id, &ALL).await,
            settled,
            "the same result twice"
        );
    }

    // B fixed and sent again, C to be sent again: the old import's result leaves B alone.
    s.record_products_sent(ws, id, &sent(&["B"]), "P41-2", T0 + 3)
        .await
        .unwrap();
    assert_eq!(
        s.forget_product_hashes(ws, id, &skus(&["C", "NEVER-SENT"]), T0 + 3)
            .await
            .unwrap(),
        1
    );
    s.record_import_outcome(
        Ledger::Products,
        ws,
        id,
        "P41-1",
        &report,
        ImportOutcome::Finished,
        T0 + 4,
    )
    .await
    .unwrap();
    assert_eq!(
        products(&s, ws, id, &["B", "C"]).await,
        product_states(&[("B", Sent, None), ("C", Waiting, None)])
    );
    assert_eq!(
        s.product_state_counts(ws, id).await.unwrap(),
        [(Waiting, 1), (Sent, 1), (Live, 1), (Error, 1)]
    );
}

async fn products_are_scoped_by_workspace_and_apart_from_offers(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let id = channel(&s, mine, ChannelStatus::Live).await;
    let all: Vec<String> = (0..600).map(|n| format!("SKU-{n:04}")).collect();
    let lines: Vec<(String, Vec<u8>)> = all.iter().map(|sku| (sku.clone(), vec![1])).collect();
    s.record_products_sent(mine, id, &lines, "1", T0)
        .await
        .unwrap();
    assert_eq!(
        s.channel_products_for(mine, id, &all).await.unwrap().len(),
        600,
        "more SKUs than one statement takes"
    );
    assert!(
        s.channel_items_for(mine, id, &all)
            .await
            .unwrap()
            .is_empty(),
        "a product sent is not an offer sent"
    );
    s.record_sent(mine, id, &sent(&["SKU-0000"]), None, T0)
        .await
        .unwrap();
    assert_eq!(
        products(&s, mine, id, &["SKU-0000"]).await[0].1,
        ItemState::Sent,
        "an offer sent leaves its product alone"
    );

    let not_found = |r: Result<(), StorageError>| matches!(r, Err(StorageError::NotFound));
    assert!(not_found(
        s.record_products_sent(theirs, id, &sent(&["SKU-0000"]), "2", T0)
            .await
    ));
    assert!(not_found(
        s.record_product_errors(theirs, id, &errors(&[("SKU-0000", "x")]), T0)
            .await
    ));
    assert!(
        s.channel_products_for(theirs, id, &all[..3])
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.forget_product_hashes(theirs, id, &all[..3], T0)
            .await
            .unwrap(),
        0
    );
    a_foreign_result_changes_nothing(&s, Ledger::Products, theirs, mine, id, 600).await;
}

/// Another workspace's import result for a channel of `mine` touches nothing in `ledger`: its
/// own counts stay at zero, and `sent` of `mine`'s rows stay sent.
async fn a_foreign_result_changes_nothing(
    s: &Storage,
    ledger: Ledger,
    theirs: WorkspaceId,
    mine: WorkspaceId,
    id: ChannelId,
    sent: i64,
) {
    let outcome = s
        .record_import_outcome(ledger, theirs, id, "1", &[], ImportOutcome::Finished, T0)
        .await
        .unwrap();
    assert_eq!(outcome, ImportOutcomeCounts::default());
    let counts = |ws| async move {
        match ledger {
            Ledger::Items => s.item_state_counts(ws, id).await,
            Ledger::Products => s.product_state_counts(ws, id).await,
        }
        .unwrap()
    };
    assert!(counts(theirs).await.iter().all(|(_, n)| *n == 0));
    assert_eq!(counts(mine).await[1], (ItemState::Sent, sent), "untouched");
}

async fn a_deleted_channel_takes_its_mapping_and_products_along(s: Storage) {
    const DELETE_CHANNEL: &str = "DELETE FROM channels WHERE id = $1";
    const MAPPINGS: &str = "SELECT COUNT(*) FROM channel_mappings WHERE channel_id = $1";
    const PRODUCTS: &str = "SELECT COUNT(*) FROM channel_products WHERE channel_id = $1";
    let ws = workspace(&s, "me@example.com").await;
    let id = channel(&s, ws, ChannelStatus::Live).await;
    s.save_channel_mapping(ws, id, &ProductMapping::default(), T0)
        .await
        .unwrap();
    s.record_products_sent(ws, id, &sent(&["A", "B"]), "1", T0)
        .await
        .unwrap();
    assert_eq!(raw_count(&s, PRODUCTS, id.0).await, 2);

    // The channel row alone, as nothing but the foreign keys would clean up after it.
    let deleted = match s.raw_pool() {
        RawPool::Sqlite(p) => sqlx::query(DELETE_CHANNEL)
            .bind(id.0)
            .execute(p)
            .await
            .map(|done| done.rows_affected()),
        RawPool::Postgres(p) => sqlx::query(DELETE_CHANNEL)
            .bind(id.0)
            .execute(p)
            .await
            .map(|done| done.rows_affected()),
    };
    assert_eq!(deleted.unwrap(), 1);
    assert_eq!(raw_count(&s, MAPPINGS, id.0).await, 0);
    assert_eq!(raw_count(&s, PRODUCTS, id.0).await, 0);
}

// ---------------------------------------------------------------- call budgets

async fn a_call_budget_grants_then_says_when(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let id = channel(&s, mine, ChannelStatus::Live).await;
    let take = |op: &'static str, now: i64| {
        let s = s.clone();
        async move { s.take_call_budget(mine, id, op, MINUTE, now).await.unwrap() }
    };
    assert_eq!(take("OF01", T0).await, BudgetDecision::Granted);
    assert_eq!(
        take("OF01", T0 + 1).await,
        BudgetDecision::WaitUntil(T0 + MINUTE)
    );
    assert_eq!(
        take("OR11", T0 + 1).await,
        BudgetDecision::Granted,
        "per operation"
    );
    assert_eq!(take("OF01", T0 + MINUTE).await, BudgetDecision::Granted);

    // A 429 said wait ten minutes; an earlier deferral does not shorten it.
    s.defer_call_budget(mine, id, "OF01", T0 + 10 * MINUTE)
        .await
        .unwrap();
    s.defer_call_budget(mine, id, "OF01", T0 + 5 * MINUTE)
        .await
        .unwrap();
    assert_eq!(
        take("OF01", T0 + 3 * MINUTE).await,
        BudgetDecision::WaitUntil(T0 + 10 * MINUTE)
    );
    assert_eq!(
        take("OF01", T0 + 10 * MINUTE).await,
        BudgetDecision::Granted
    );
    s.defer_call_budget(mine, id, "P41", T0 + MINUTE)
        .await
        .unwrap();
    assert_eq!(
        take("P41", T0).await,
        BudgetDecision::WaitUntil(T0 + MINUTE)
    );

    let foreign = s
        .take_call_budget(theirs, id, "OF01", MINUTE, T0 + 99 * MINUTE)
        .await;
    assert!(
        matches!(foreign, Err(StorageError::NotFound)),
        "{foreign:?}"
    );
    let foreign = s.take_call_budget(theirs, id, "NEW", MINUTE, T0).await;
    assert!(
        matches!(foreign, Err(StorageError::NotFound)),
        "{foreign:?}"
    );
    let foreign = s
        .defer_call_budget(theirs, id, "OF01", T0 + 99 * MINUTE)
        .await;
    assert!(
        matches!(foreign, Err(StorageError::NotFound)),
        "{foreign:?}"
    );
    assert_eq!(
        take("OF01", T0 + 10 * MINUTE + 1).await,
        BudgetDecision::WaitUntil(T0 + 11 * MINUTE),
        "the other workspace's attempts changed nothing"
    );
}

async fn racing_processes_get_one_call_budget(s: Storage) {
    const RACERS: usize = 8;
    let ws = workspace(&s, "me@example.com").await;
    let id = channel(&s, ws, ChannelStatus::Live).await;
    // Each round starts every racer at once, on its own connection, at the same instant.
    for round in 0..5 {
        let now = T0 + round * MINUTE;
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(RACERS));
        let mut racers = Vec::new();
        for _ in 0..RACERS {
            let (s, start) = (s.clone(), start.clone());
            racers.push(tokio::spawn(async move {
                start.wait().await;
                s.take_call_budget(ws, id, "OR11", MINUTE, now)
                    .await
                    .unwrap()
            }));
        }
        let mut decisions = Vec::new();
        for racer in racers {
            decisions.push(racer.await.unwrap());
        }
        let granted = decisions
            .iter()
            .filter(|d| **d == BudgetDecision::Granted)
            .count();
        assert_eq!(granted, 1, "round {round}: {decisions:?}");
        assert!(
            decisions.iter().all(|d| [
                BudgetDecision::Granted,
                BudgetDecision::WaitUntil(now + MINUTE)
            ]
            .contains(d)),
            "{decisions:?}"
        );
    }
}

// ---------------------------------------------------------------- imports and sync runs

async fn imports_are_followed_until_they_finish(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let id = channel(&s, mine, ChannelStatus::Live).await;
    s.record_import(mine, id, "2044", "OF01", 1_000, T0)
        .await
        .unwrap();
    s.record_import(mine, id, "77", "P41", 20, T0 + 1)
        .await
        .unwrap();
    let twice = s
        .record_import(mine, id, "2044", "OF01", 1_000, T0 + 2)
        .await;
    assert!(
        matches!(twice, Err(StorageError::Conflict("channel_imports_pkey"))),
        "{twice:?}"
    );

    let open = s.open_imports(mine, id).await.unwrap();
    assert_eq!(
        open.iter()
            .map(|i| (
                i.import_id.as_str(),
                i.kind.as_str(),
                i.status.as_str(),
                i.lines
            ))
            .collect::<Vec<_>>(),
        [("2044", "OF01", "open", 1_000), ("77", "P41", "open", 20)],
        "oldest first"
    );
    assert_eq!((open[0].created_at_ms, open[0].finished_at_ms), (T0, None));

    s.finish_import(mine, id, "2044", "COMPLETE", T0 + 3)
        .await
        .unwrap();
    let open = s.open_imports(mine, id).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].import_id, "77");

    let unknown = s.finish_import(mine, id, "404", "COMPLETE", T0).await;
    assert!(
        matches!(unknown, Err(StorageError::NotFound)),
        "{unknown:?}"
    );
    let foreign = s.finish_import(theirs, id, "77", "FAILED", T0).await;
    assert!(
        matches!(foreign, Err(StorageError::NotFound)),
        "{foreign:?}"
    );
    let foreign = s.record_import(theirs, id, "88", "OF24", 1, T0).await;
    assert!(
        matches!(foreign, Err(StorageError::NotFound)),
        "{foreign:?}"
    );
    assert_eq!(s.open_imports(theirs, id).await.unwrap(), []);
    assert_eq!(s.open_imports(mine, id).await.unwrap().len(), 1);
}

async fn sync_runs_are_paged_newest_first_by_keyset(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    // Runs started in the same millisecond are told apart by id.
    let mut started = Vec::new();
    for i in 0..7 {
        let id = s
            .start_sync_run(mine, None, "catalog_read", T0 + i / 2)
            .await
            .unwrap();
        started.push((T0 + i / 2, id));
    }
    s.start_sync_run(theirs, None, "catalog_read", T0)
        .await
        .unwrap();
    let mut walked = Vec::new();
    let mut before = None;
    loop {
        let page = s.sync_runs_page(mine, before, 3).await.unwrap();
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        before = Some((last.started_at_ms, last.id));
        walked.extend(page.iter().map(|r| r.id));
    }
    started.sort_by_key(|key| std::cmp::Reverse(*key));
    let newest_first: Vec<Uuid> = started.into_iter().map(|(_, id)| id).collect();
    assert_eq!(walked, newest_first);
    assert_eq!(s.sync_runs_page(theirs, None, 10).await.unwrap().len(), 1);
}

async fn sync_runs_are_listed_newest_first(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let id = channel(&s, mine, ChannelStatus::Live).await;
    let read = s
        .start_sync_run(mine, None, "catalog_read", T0)
        .await
        .unwrap();
    let export = s
        .start_sync_run(mine, Some(id), "catalog_export", T0 + 1)
        .await
        .unwrap();
    let orders = s
        .start_sync_run(mine, Some(id), "order_import", T0 + 2)
        .await
        .unwrap();
    s.finish_sync_run(
        mine,
        read,
        SyncRunStatus::Done,
        r#"{"items":120}"#,
        None,
        T0 + 3,
    )
    .await
    .unwrap();
    s.finish_sync_run(
        mine,
        export,
        SyncRunStatus::Failed,
        r#"{"sent":0}"#,
        Some("Mirakl refused the offer file"),
        T0 + 4,
    )
    .await
    .unwrap();

    let recent = s.recent_sync_runs(mine, 2).await.unwrap();
    assert_eq!(
        recent.iter().map(|r| r.id).collect::<Vec<_>>(),
        [orders, export],
        "newest first"
    );
    assert_eq!(
        (
            recent[0].status,
            recent[0].counts.as_str(),
            recent[0].finished_at_ms
        ),
        (SyncRunStatus::Running, "{}", None)
    );
    assert_eq!(recent[1].channel_id, Some(id));
    assert_eq!(recent[1].status, SyncRunStatus::Failed);
    assert_eq!(
        recent[1].message.as_deref(),
        Some("Mirakl refused the offer file")
    );
    let all = s.recent_sync_runs(mine, 10).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(
        (
            all[2].channel_id,
            all[2].flow.as_str(),
            all[2].counts.as_str()
        ),
        (None, "catalog_read", r#"{"items":120}"#)
    );
    assert_eq!(all[2].finished_at_ms, Some(T0 + 3));

    assert_eq!(s.recent_sync_runs(theirs, 10).await.unwrap(), []);
    let foreign = s
        .finish_sync_run(theirs, orders, SyncRunStatus::Done, "{}", None, T0)
        .await;
    assert!(
        matches!(foreign, Err(StorageError::NotFound)),
        "{foreign:?}"
    );
    let foreign = s
        .start_sync_run(theirs, Some(id), "catalog_export", T0)
        .await;
    assert!(
        matches!(foreign, Err(StorageError::NotFound)),
        "{foreign:?}"
    );
}

// ---------------------------------------------------------------- catalog cursor

async fn the_catalog_cursor_is_kept_with_the_shop(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let shop = s.connect_shop(mine, &new_shop("demo"), T0).await.unwrap();
    assert_eq!(shop.catalog_read_at_ms, None);

    s.set_catalog_cursor(mine, shop.id, T0 + 1).await.unwrap();
    assert_eq!(
        s.get_shop(mine).await.unwrap().unwrap().catalog_read_at_ms,
        Some(T0 + 1)
    );
    assert_eq!(
        s.find_shop(shop.id)
            .await
            .unwrap()
            .unwrap()
            .catalog_read_at_ms,
        Some(T0 + 1)
    );
    let foreign = s.set_catalog_cursor(theirs, shop.id, T0 + 2).await;
    assert!(
        matches!(foreign, Err(StorageError::NotFound)),
        "{foreign:?}"
    );

    // New keys for the same store keep the cursor; another store is read in full.
    let rekeyed = s
        .connect_shop(mine, &new_shop("demo"), T0 + 3)
        .await
        .unwrap();
    assert_eq!(rekeyed.catalog_read_at_ms, Some(T0 + 1));
    let moved = s
        .connect_shop(mine, &new_shop("other"), T0 + 4)
        .await
        .unwrap();
    assert_eq!((moved.id, moved.catalog_read_at_ms), (shop.id, None));
}

// ---------------------------------------------------------------- deleting a channel

async fn deleting_a_channel_removes_everything_kept_for_it(s: Storage) {
    const PER_CHANNEL: [&str; 7] = [
        "SELECT COUNT(*) FROM channel_items WHERE channel_id = $1",
        "SELECT COUNT(*) FROM channel_products WHERE channel_id = $1",
        "SELECT COUNT(*) FROM channel_mappings WHERE channel_id = $1",
        "SELECT COUNT(*) FROM call_budgets WHERE channel_id = $1",
        "SELECT COUNT(*) FROM channel_imports WHERE channel_id = $1",
        "SELECT COUNT(*) FROM channel_overrides WHERE channel_id = $1",
        "SELECT COUNT(*) FROM sync_runs WHERE channel_id = $1",
    ];
    let ws = workspace(&s, "me@example.com").await;
    let doomed = channel(&s, ws, ChannelStatus::Live).await;
    let kept = channel(&s, ws, ChannelStatus::Live).await;
    s.upsert_catalog_items(ws, &[catalog_row("A", 1, "Apple", "{}", T0)])
        .await
        .unwrap();
    s.save_product_settings(ws, &ProductSettings::default(), T0)
        .await
        .unwrap();
    let workspace_run = s
        .start_sync_run(ws, None, "catalog_read", T0)
        .await
        .unwrap();
    for id in [doomed, kept] {
        s.record_sent(ws, id, &sent(&["A"]), Some("1"), T0)
            .await
            .unwrap();
        s.take_call_budget(ws, id, "OF01", MINUTE, T0)
            .await
            .unwrap();
        s.record_import(ws, id, "1", "OF01", 1, T0).await.unwrap();
        s.save_channel_overrides(ws, id, &ChannelOverrides::default(), T0)
            .await
            .unwrap();
        s.save_channel_mapping(ws, id, &ProductMapping::default(), T0)
            .await
            .unwrap();
        s.record_products_sent(ws, id, &sent(&["A"]), "P1", T0)
            .await
            .unwrap();
        s.start_sync_run(ws, Some(id), "catalog_export", T0 + 1)
            .await
            .unwrap();
    }

    s.delete_channel(ws, doomed).await.unwrap();
    for sql in PER_CHANNEL {
        assert_eq!(raw_count(&s, sql, doomed.0).await, 0, "{sql}");
        assert_eq!(raw_count(&s, sql, kept.0).await, 1, "{sql}");
    }
    assert_eq!(s.catalog_count(ws).await.unwrap(), 1, "the catalog stays");
    assert!(s.product_settings(ws).await.unwrap().is_some());
    let runs = s.recent_sync_runs(ws, 10).await.unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().any(|r| r.id == workspace_run));
}

// ---------------------------------------------------------------- disconnect

async fn a_disconnect_is_started_once_and_resumed_after_a_failure(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let other = workspace(&s, "other@example.com").await;
    let id = channel(&s, ws, ChannelStatus::Live).await;
    assert_eq!(s.disconnect(ws).await.unwrap(), None);

    let started = s
        .start_disconnect(ws, Some(id), DisconnectChoice::Deactivate, T0)
        .await
        .unwrap();
    assert_eq!(s.disconnect(ws).await.unwrap().as_ref(), Some(&started));
    assert_eq!(
        (started.status, started.step.as_str(), started.forced),
        (
            DisconnectStatus::Running,
            storage::DISCONNECT_FIRST_STEP,
            false
        )
    );
    let again = s
        .start_disconnect(ws, None, DisconnectChoice::Delete, T0 + 1)
        .await;
    assert!(
        matches!(again, Err(StorageError::Conflict("disconnect_running"))),
        "{again:?}"
    );

    s.set_disconnect_step(ws, "offers_deactivated", T0 + 2)
        .await
        .unwrap();
    s.fail_disconnect(ws, "the channel did not answer", T0 + 3)
        .await
        .unwrap();
    let failed = s.disconnect(ws).await.unwrap().unwrap();
    assert_eq!(
        (failed.status, failed.step.as_str(), failed.error.as_deref()),
        (
            DisconnectStatus::Failed,
            "offers_deactivated",
            Some("the channel did not answer")
        )
    );
    assert_eq!((failed.updated_at_ms, failed.started_at_ms), (T0 + 3, T0));

    s.retry_disconnect(ws, true, T0 + 4).await.unwrap();
    let retried = s.disconnect(ws).await.unwrap().unwrap();
    assert_eq!(
        (retried.status, retried.error, retried.forced),
        (DisconnectStatus::Running, None, true)
    );
    let not_failed = s.retry_disconnect(ws, false, T0 + 5).await;
    assert!(
        matches!(not_failed, Err(StorageError::NotFound)),
        "{not_failed:?}"
    );

    s.finish_disconnect(ws, T0 + 6).await.unwrap();
    let done = s.disconnect(ws).await.unwrap().unwrap();
    assert_eq!(
        done,
        storage::Disconnect {
            workspace_id: ws,
            channel_id: Some(id),
            choice: DisconnectChoice::Deactivate,
            step: "offers_deactivated".to_owned(),
            status: DisconnectStatus::Done,
            error: None,
            forced: true,
            started_at_ms: T0,
            updated_at_ms: T0 + 6,
            finished_at_ms: Some(T0 + 6),
        }
    );

    // A finished disconnect makes room for the next one.
    let next = s
        .start_disconnect(ws, None, DisconnectChoice::Keep, T0 + 7)
        .await
        .unwrap();
    assert_eq!(s.disconnect(ws).await.unwrap(), Some(next));

    // Scoped by workspace.
    assert_eq!(s.disconnect(other).await.unwrap(), None);
    for result in [
        s.set_disconnect_step(other, "x", T0).await,
        s.fail_disconnect(other, "x", T0).await,
        s.finish_disconnect(other, T0).await,
    ] {
        assert!(matches!(result, Err(StorageError::NotFound)), "{result:?}");
    }
    let unknown = s
        .start_disconnect(WorkspaceId::new(), None, DisconnectChoice::Keep, T0)
        .await;
    assert!(
        matches!(unknown, Err(StorageError::NotFound)),
        "{unknown:?}"
    );
}

/// A row in every table of the workspace, through the public API.
async fn fill_workspace(s: &Storage, address: &str) -> WorkspaceId {
    let account = s
        .create_account(&email(address), "$argon2id$hash", T0)
        .await
        .unwrap();
    let ws = account.workspace_id;
    let tag = address.as_bytes();
    s.create_session(
        &[tag, b"-session"].concat(),
        "csrf",
        Some((account.user_id, ws)),
        T0,
        T0 + MINUTE,
    )
    .await
    .unwrap();
    s.create_api_token(
        ws,
        storage::NewApiToken {
            token_hash: &[tag, b"-api-token"].concat(),
            display_prefix: "mb_x",
            name: "ERP",
            scope: storage::ApiScope::Read,
        },
        T0,
    )
    .await
    .unwrap();
    let id = channel(s, ws, ChannelStatus::Live).await;
    s.advance_channel_cursor(ws, id, "export", T0)
        .await
        .unwrap();
    s.store_tokens(ws, id, &tokens("access", Some("refresh"), T0), T0)
        .await
        .unwrap();
    s.create_pending_authorization(&pending(ws, id, &[tag, b"-state"].concat()))
        .await
        .unwrap();
    let shop = s.connect_shop(ws, &new_shop("demo"), T0).await.unwrap();
    s.mark_shop_product_changed(ws, shop.id, 7, T0)
        .await
        .unwrap();
    s.set_shop_webhooks(ws, shop.id, &[registered("product.updated", 7)], T0)
        .await
        .unwrap();
    record(s, ws, shop.id, &incoming("d1", address), T0)
        .await
        .unwrap();
    s.create_pending_shop_authorization(&pending_shop(ws, &[tag, b"-shop-auth"].concat()))
        .await
        .unwrap();
    let settings = WorkspaceSettings {
        sync_products: true,
        import_orders: false,
        saved_at_ms: None,
    };
    s.save_workspace_settings(ws, &settings, T0).await.unwrap();
    s.save_product_settings(ws, &ProductSettings::default(), T0)
        .await
        .unwrap();
    s.save_channel_overrides(ws, id, &ChannelOverrides::default(), T0)
        .await
        .unwrap();
    s.save_channel_mapping(ws, id, &ProductMapping::default(), T0)
        .await
        .unwrap();
    s.record_products_sent(ws, id, &sent(&["A"]), "P1", T0)
        .await
        .unwrap();
    s.upsert_catalog_items(ws, &[catalog_row("A", 1, "Apple", "{}", T0)])
        .await
        .unwrap();
    s.record_sent(ws, id, &sent(&["A"]), Some("1"), T0)
        .await
        .unwrap();
    s.take_call_budget(ws, id, "OF01", MINUTE, T0)
        .await
        .unwrap();
    s.record_import(ws, id, "1", "OF01", 1, T0).await.unwrap();
    s.start_sync_run(ws, Some(id), "catalog_export", T0)
        .await
        .unwrap();
    s.enqueue_job(&job(Some(ws), "disconnect", T0))
        .await
        .unwrap()
        .unwrap();
    s.start_disconnect(ws, None, DisconnectChoice::Delete, T0)
        .await
        .unwrap();
    let order = s
        .upsert_order(ws, id, &mirakl_order("O-1", "SHIPPING", T0), T0)
        .await
        .unwrap()
        .id();
    s.reserve_order_step(ws, order, "shop_order", None, T0)
        .await
        .unwrap();
    s.reserve_acceptance(
        ws,
        order,
        "accept",
        "{}",
        &[("A".to_owned(), 1)],
        Some(0),
        T0,
    )
    .await
    .unwrap();
    s.add_order_event(ws, order, "Received", T0).await.unwrap();
    s.save_order_settings(ws, &domain::order::OrderSettings::default(), T0)
        .await
        .unwrap();
    s.mark_onboarded(ws, T0).await.unwrap();
    ws
}

/// Rows of `ws` in each table of `workspace_tables()`.
async fn rows_per_table(s: &Storage, ws: WorkspaceId) -> Vec<(String, i64)> {
    let mut counts = Vec::new();
    for table in s.workspace_tables().await.unwrap() {
        let sql = format!("SELECT COUNT(*) FROM \"{table}\" WHERE workspace_id = $1");
        // The names come from the database's catalogue.
        let n: i64 = match s.raw_pool() {
            RawPool::Sqlite(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(ws.0)
                .fetch_one(p)
                .await
                .unwrap(),
            RawPool::Postgres(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(ws.0)
                .fetch_one(p)
                .await
                .unwrap(),
        };
        counts.push((table, n));
    }
    counts
}

async fn deleting_a_workspace_leaves_its_login_sessions_and_a_receipt_only(s: Storage) {
    /// Rows a wiped workspace keeps: its login, its sessions, the receipt.
    const KEPT: [&str; 3] = ["users", "sessions", "disconnect_receipts"];
    let ws = fill_workspace(&s, "gone@example.com").await;
    let other = fill_workspace(&s, "stays@example.com").await;
    let before = rows_per_table(&s, ws).await;
    for (table, n) in &before {
        // A table added later must be filled above, so the wipe is checked on it too.
        if table != "disconnect_receipts" {
            assert!(*n > 0, "fill_workspace leaves {table} empty");
        }
    }
    let other_before = rows_per_table(&s, other).await;

    let wiped = s
        .delete_workspace_data(ws, DisconnectChoice::Delete, T0 + 5)
        .await
        .unwrap();

    let expected = before
        .iter()
        .filter(|(table, _)| !KEPT.contains(&table.as_str()))
        .fold(WipeCounts::default(), |c, (_, n)| WipeCounts {
            tables: c.tables + 1,
            rows: c.rows + u64::try_from(*n).unwrap(),
        });
    assert_eq!(wiped, expected);
    for (table, n) in rows_per_table(&s, ws).await {
        let kept = i64::from(KEPT.contains(&table.as_str()));
        assert_eq!(n, kept, "{table}");
    }
    assert_eq!(rows_per_table(&s, other).await, other_before);

    let account = s
        .find_account_by_email(&email("gone@example.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.workspace_id, ws);
    assert_eq!(
        s.workspace(ws).await.unwrap().unwrap().onboarded_at_ms,
        None
    );
    assert!(
        s.workspace(other)
            .await
            .unwrap()
            .unwrap()
            .onboarded_at_ms
            .is_some()
    );
    assert_eq!(
        s.disconnect_receipt(ws).await.unwrap(),
        Some((DisconnectChoice::Delete, T0 + 5))
    );
    assert_eq!(s.disconnect_receipt(other).await.unwrap(), None);
    assert_eq!(s.disconnect(ws).await.unwrap(), None);
    assert!(s.disconnect(other).await.unwrap().is_some());

    // Repeating the wipe (a resumed disconnect) finds nothing more to delete.
    let again = s
        .delete_workspace_data(ws, DisconnectChoice::Delete, T0 + 6)
        .await
        .unwrap();
    assert_eq!(again, WipeCounts::default());
    s.clear_disconnect_receipt(ws).await.unwrap();
    s.clear_disconnect_receipt(ws).await.unwrap();
    assert_eq!(s.disconnect_receipt(ws).await.unwrap(), None);

    let unknown = s
        .delete_workspace_data(WorkspaceId::new(), DisconnectChoice::Keep, T0)
        .await;
    assert!(
        matches!(unknown, Err(StorageError::NotFound)),
        "{unknown:?}"
    );
}

async fn deleting_a_channels_data_can_be_repeated(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let doomed = channel(&s, ws, ChannelStatus::Live).await;
    let kept = channel(&s, ws, ChannelStatus::Live).await;
    s.store_tokens(ws, doomed, &tokens("access", None, T0), T0)
        .await
        .unwrap();
    s.start_disconnect(ws, Some(doomed), DisconnectChoice::Keep, T0)
        .await
        .unwrap();

    s.delete_channel_data(ws, doomed, T0 + 1).await.unwrap();
    s.delete_channel_data(ws, doomed, T0 + 2).await.unwrap();
    let left: Vec<ChannelId> = s
        .list_channels(ws)
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(left, [kept]);
    assert_eq!(s.load_tokens(ws, doomed).await.unwrap(), None);
    // The disconnect outlives its channel, to be marked done.
    let state = s.disconnect(ws).await.unwrap().unwrap();
    assert_eq!(
        (state.channel_id, state.updated_at_ms),
        (Some(doomed), T0 + 2)
    );
    s.finish_disconnect(ws, T0 + 3).await.unwrap();
}

#[tokio::test]
async fn an_unknown_database_url_is_refused() {
    let result = Storage::connect(
        "mysql://root:secret@localhost/db",
        storage::SecretKey::generate(),
    )
    .await;
    let Err(StorageError::InvalidUrl(scheme)) = result else {
        panic!("{result:?}")
    };
    assert_eq!(scheme, "mysql", "only the scheme, never the password");
}

#[tokio::test]
async fn an_in_memory_database_works_with_one_connection() {
    let s = Storage::connect("sqlite::memory:", storage::SecretKey::generate())
        .await
        .unwrap();
    s.migrate().await.unwrap();
    let ws = workspace(&s, "me@example.com").await;
    let id = channel(&s, ws, ChannelStatus::Live).await;
    assert_eq!(s.list_channels(ws).await.unwrap().len(), 1);
    assert!(s.get_channel(ws, id).await.unwrap().is_some());
    assert_eq!(s.engine(), Engine::Sqlite);
}

/// Two processes on one PostgreSQL database: a job queued by one wakes the other's workers
/// through `LISTEN`/`NOTIFY`, without waiting for their next poll. (SQLite has no such notice;
/// its workers poll.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_job_queued_by_another_process_wakes_this_ones_workers() {
    let url = storage::testing::fresh_database_url(storage::Engine::Postgres).await;
    let key = storage::SecretKey::generate();
    let here = Storage::connect(&url, key.clone()).await.unwrap();
    here.migrate().await.unwrap();
    let there = Storage::connect(&url, key).await.unwrap();
    let ws = workspace(&there, "me@example.com").await;

    // A bound so a lost notice fails the test instead of hanging it; not a speed check.
    let bound = std::time::Duration::from_secs(60);
    let mut events = here.job_events();
    // The listener announces itself once it listens.
    tokio::time::timeout(bound, events.changed())
        .await
        .expect("the listener started")
        .unwrap();
    events.borrow_and_update();

    there
        .enqueue_job(&job(Some(ws), "catalog_read", T0))
        .await
        .unwrap();
    tokio::time::timeout(bound, events.changed())
        .await
        .expect("the other process's job woke this one")
        .unwrap();
}

// ---------------------------------------------------------------- orders

fn mirakl_order(id: &str, state: &str, updated_at_ms: i64) -> domain::order::Order {
    use domain::catalog::Money;
    domain::order::Order {
        mirakl_id: id.to_owned(),
        state: state.to_owned(),
        created_at_ms: T0,
        updated_at_ms,
        acceptance_deadline_ms: Some(T0 + 3 * 24 * 60 * MINUTE),
        shipping_deadline_ms: None,
        currency: "EUR".to_owned(),
        lines: vec![domain::order::OrderLine {
            line_id: format!("{id}-1"),
            sku: "MUG-1".to_owned(),
            title: "Blue mug".to_owned(),
            quantity: 2,
            unit_price: Money::from_minor(990),
            total_price: Money::from_minor(1980),
            shipping_price: Money::from_minor(0),
            state: state.to_owned(),
        }],
        shipping_price: Money::from_minor(0),
        total_price: Money::from_minor(1980),
        customer: domain::order::Customer::default(),
        shipping_method: None,
    }
}

async fn an_order_is_stored_once_and_a_newer_one_replaces_it(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let id = channel(&s, mine, ChannelStatus::Live).await;

    let placed = mirakl_order("O-1", "WAITING_ACCEPTANCE", T0 + 1);
    let OrderUpsert::New(order) = s.upsert_order(mine, id, &placed, T0 + 2).await.unwrap() else {
        panic!("a first order is new");
    };
    assert_eq!(
        s.upsert_order(mine, id, &placed, T0 + 3).await.unwrap(),
        OrderUpsert::Unchanged(order)
    );
    s.finish_order(mine, order, T0 + 4).await.unwrap();
    // An older copy (an overlapping poll) changes nothing.
    let stale = mirakl_order("O-1", "STAGING", T0);
    assert_eq!(
        s.upsert_order(mine, id, &stale, T0 + 5).await.unwrap(),
        OrderUpsert::Unchanged(order)
    );
    // A new state from Mirakl opens the order again.
    let accepted = mirakl_order("O-1", "WAITING_DEBIT_PAYMENT", T0 + 6);
    assert_eq!(
        s.upsert_order(mine, id, &accepted, T0 + 7).await.unwrap(),
        OrderUpsert::Changed {
            id: order,
            state_changed: true
        }
    );
    let stored = s.get_order(mine, order).await.unwrap().unwrap();
    assert_eq!(stored.order, accepted);
    assert_eq!(stored.finished_at_ms, None);
    assert_eq!(stored.imported_at_ms, T0 + 2);

    s.set_shop_order(mine, order, 501, "501", "processing", T0 + 8)
        .await
        .unwrap();
    assert_eq!(
        s.order_by_shop_order(mine, 501).await.unwrap().unwrap().id,
        order
    );
    assert_eq!(s.order_by_shop_order(theirs, 501).await.unwrap(), None);
    assert_eq!(s.get_order(theirs, order).await.unwrap(), None);
    let foreign = s.upsert_order(theirs, id, &placed, T0).await;
    assert!(
        matches!(foreign, Err(StorageError::NotFound)),
        "{foreign:?}"
    );
    let foreign = s.set_shop_order(theirs, order, 7, "7", "x", T0).await;
    assert!(
        matches!(foreign, Err(StorageError::NotFound)),
        "{foreign:?}"
    );
}

/// Two workers reach the same step at once: one reserves it, the other finds it in doubt.
async fn an_order_step_is_reserved_once_by_racing_workers(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let id = channel(&s, mine, ChannelStatus::Live).await;
    let order = s
        .upsert_order(mine, id, &mirakl_order("O-1", "SHIPPING", T0), T0)
        .await
        .unwrap()
        .id();
    let mut racing = tokio::task::JoinSet::new();
    for n in 0..8 {
        let s = s.clone();
        racing.spawn(async move {
            s.reserve_order_step(mine, order, "shop_order", Some("{}"), T0 + n)
                .await
                .unwrap()
        });
    }
    let mut fresh = 0;
    while let Some(reservation) = racing.join_next().await {
        match reservation.unwrap() {
            StepReservation::Fresh => fresh += 1,
            StepReservation::InDoubt(step) => assert_eq!(step.done_at_ms, None),
            StepReservation::Done(step) => panic!("not done yet: {step:?}"),
        }
    }
    assert_eq!(fresh, 1, "one worker reserves the step");

    s.note_order_step(mine, order, "shop_order", Some("the store timed out"), None)
        .await
        .unwrap();
    let StepReservation::InDoubt(step) = s
        .reserve_order_step(mine, order, "shop_order", None, T0 + 20)
        .await
        .unwrap()
    else {
        panic!("still in doubt");
    };
    assert_eq!(step.error.as_deref(), Some("the store timed out"));
    assert_eq!(step.detail.as_deref(), Some("{}"));
    s.finish_order_step(mine, order, "shop_order", Some(r#"{"id":501}"#), T0 + 21)
        .await
        .unwrap();
    let StepReservation::Done(done) = s
        .reserve_order_step(mine, order, "shop_order", None, T0 + 22)
        .await
        .unwrap()
    else {
        panic!("done");
    };
    assert_eq!(
        (done.done_at_ms, done.error, done.detail.as_deref()),
        (Some(T0 + 21), None, Some(r#"{"id":501}"#))
    );
    // A released reservation (known not to have happened) can be taken afresh; a done step
    // cannot be released.
    s.release_order_step(mine, order, "shop_order")
        .await
        .unwrap();
    assert!(matches!(
        s.reserve_order_step(mine, order, "shop_order", None, T0 + 23)
            .await
            .unwrap(),
        StepReservation::Done(_)
    ));
    assert_eq!(
        s.reserve_order_step(mine, order, "accept", None, T0 + 24)
            .await
            .unwrap(),
        StepReservation::Fresh
    );
    s.release_order_step(mine, order, "accept").await.unwrap();
    assert_eq!(
        s.reserve_order_step(mine, order, "accept", None, T0 + 25)
            .await
            .unwrap(),
        StepReservation::Fresh
    );
    assert_eq!(s.order_steps(mine, order).await.unwrap().len(), 2);
    let foreign = s
        .reserve_order_step(theirs, order, "accept", None, T0)
        .await;
    assert!(
        matches!(foreign, Err(StorageError::NotFound)),
        "{foreign:?}"
    );
    assert!(s.order_steps(theirs, order).await.unwrap().is_empty());
}

async fn orders_are_listed_filtered_counted_and_kept_apart(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let first = channel(&s, mine, ChannelStatus::Live).await;
    let second = channel(&s, mine, ChannelStatus::Live).await;
    let mut ids = Vec::new();
    for (n, (channel, state)) in [
        (first, "WAITING_ACCEPTANCE"),
        (first, "SHIPPING"),
        (second, "SHIPPING"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut order = mirakl_order(&format!("O-{n}"), state, T0);
        order.created_at_ms = T0 + n as i64;
        ids.push(
            s.upsert_order(mine, channel, &order, T0)
                .await
                .unwrap()
                .id(),
        );
    }
    s.set_shop_order(mine, ids[1], 77, "1077", "processing", T0)
        .await
        .unwrap();
    s.set_order_attention(mine, ids[0], Some("Accept or refuse it"), T0)
        .await
        .unwrap();
    s.finish_order(mine, ids[2], T0).await.unwrap();

    let page = |filter: OrdersFilter| {
        let s = s.clone();
        async move {
            s.orders_page(
                mine,
                &OrdersFilter {
                    limit: 10,
                    ..filter
                },
            )
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.order.mirakl_id)
            .collect::<Vec<_>>()
        }
    };
    assert_eq!(page(OrdersFilter::default()).await, ["O-2", "O-1", "O-0"]);
    assert_eq!(
        page(OrdersFilter {
            channel: Some(first),
            ..Default::default()
        })
        .await,
        ["O-1", "O-0"]
    );
    assert_eq!(
        page(OrdersFilter {
            state: Some("SHIPPING".into()),
            ..Default::default()
        })
        .await,
        ["O-2", "O-1"]
    );
    assert_eq!(
        page(OrdersFilter {
            attention_only: true,
            ..Default::default()
        })
        .await,
        ["O-0"]
    );
    for search in ["O-1", "1077", "o-1"] {
        let found = page(OrdersFilter {
            search: Some(search.into()),
            ..Default::default()
        })
        .await;
        // Mirakl ids match in part (and, on PostgreSQL, with their case); the shop's number
        // exactly.
        if search == "o-1" {
            assert!(found.len() <= 1, "{found:?}");
        } else {
            assert_eq!(found, ["O-1"], "{search}");
        }
    }
    let older = page(OrdersFilter {
        before: Some((T0 + 1, ids[1])),
        ..Default::default()
    })
    .await;
    assert_eq!(older, ["O-0"]);
    assert_eq!(
        s.order_counts(mine).await.unwrap(),
        OrderCounts {
            total: 3,
            open: 2,
            attention: 1,
            not_in_shop: 1
        }
    );
    let open: Vec<_> = s
        .open_orders(mine, first, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(open.len(), 2);

    s.add_order_event(mine, ids[1], "Imported", T0)
        .await
        .unwrap();
    s.add_order_event(mine, ids[1], "Shop order #1077 created", T0 + 1)
        .await
        .unwrap();
    assert_eq!(
        s.order_events(mine, ids[1]).await.unwrap(),
        [
            (T0, "Imported".to_owned()),
            (T0 + 1, "Shop order #1077 created".to_owned())
        ]
    );
    assert!(s.order_events(theirs, ids[1]).await.unwrap().is_empty());
    let foreign = s.add_order_event(theirs, ids[1], "x", T0).await;
    assert!(
        matches!(foreign, Err(StorageError::NotFound)),
        "{foreign:?}"
    );
    assert_eq!(
        s.orders_page(
            theirs,
            &OrdersFilter {
                limit: 10,
                ..Default::default()
            }
        )
        .await
        .unwrap(),
        []
    );
    assert_eq!(
        s.order_counts(theirs).await.unwrap(),
        OrderCounts::default()
    );

    assert_eq!(s.order_settings(mine).await.unwrap(), None);
    let settings = domain::order::OrderSettings {
        auto_accept: false,
        ..Default::default()
    };
    s.save_order_settings(mine, &settings, T0).await.unwrap();
    assert_eq!(s.order_settings(mine).await.unwrap(), Some(settings));
    assert_eq!(s.order_settings(theirs).await.unwrap(), None);
}

async fn orders_are_filtered_by_states_found_by_id_and_counted_by_state(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let live = channel(&s, mine, ChannelStatus::Live).await;
    let other = channel(&s, theirs, ChannelStatus::Live).await;
    // States that contain one another, differ in case only, or match as LIKE patterns would.
    for (n, state) in [
        "SHIPPING",
        "SHIPPED",
        "shipping",
        "SHIPPING_X",
        "TO_COLLECT",
        "TOXCOLLECT",
        "SHIPPED",
    ]
    .into_iter()
    .enumerate()
    {
        let mut order = mirakl_order(&format!("O-{n}"), state, T0);
        order.created_at_ms = T0 + n as i64;
        s.upsert_order(mine, live, &order, T0).await.unwrap();
    }
    s.upsert_order(theirs, other, &mirakl_order("X-1", "SHIPPED", T0), T0)
        .await
        .unwrap();
    let page = |states: &[&str], limit: i64| {
        let s = s.clone();
        let states: Vec<String> = states.iter().map(|st| (*st).to_owned()).collect();
        async move {
            s.orders_page(
                mine,
                &OrdersFilter {
                    states,
                    limit,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.order.mirakl_id)
            .collect::<Vec<_>>()
        }
    };
    assert_eq!(page(&["SHIPPING"], 10).await, ["O-0"]);
    assert_eq!(
        page(&["SHIPPED", "TO_COLLECT"], 10).await,
        ["O-6", "O-4", "O-1"]
    );
    assert_eq!(page(&["SHIPPED", "TO_COLLECT"], 2).await, ["O-6", "O-4"]);
    assert_eq!(page(&["CLOSED"], 10).await, Vec::<String>::new());
    assert_eq!(page(&[], 10).await.len(), 7, "no state: every state");
    // With the other filters.
    let waiting = s
        .orders_page(
            mine,
            &OrdersFilter {
                states: vec!["SHIPPED".into()],
                search: Some("O-6".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(waiting.len(), 1);

    // Search: part of Mirakl's id, its `_` and `%` taken as they are, in any case.
    for (n, id) in ["Order_00001-A", "OrderX00001-A"].into_iter().enumerate() {
        let mut order = mirakl_order(id, "CLOSED", T0);
        order.created_at_ms = T0 + 100 + n as i64;
        s.upsert_order(mine, live, &order, T0).await.unwrap();
    }
    for (search, found) in [
        ("Order_0", vec!["Order_00001-A"]),
        ("order_00001-a", vec!["Order_00001-A"]),
        ("00001-A", vec!["OrderX00001-A", "Order_00001-A"]),
        ("Order%", vec![]),
    ] {
        let listed: Vec<String> = s
            .orders_page(
                mine,
                &OrdersFilter {
                    search: Some(search.into()),
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.order.mirakl_id)
            .collect();
        assert_eq!(listed, found, "{search}");
    }

    assert_eq!(
        s.order_state_counts(mine).await.unwrap(),
        [
            ("CLOSED".to_owned(), 2),
            ("SHIPPED".to_owned(), 2),
            ("SHIPPING".to_owned(), 1),
            ("SHIPPING_X".to_owned(), 1),
            ("TOXCOLLECT".to_owned(), 1),
            ("TO_COLLECT".to_owned(), 1),
            ("shipping".to_owned(), 1),
        ]
    );
    assert_eq!(
        s.order_state_counts(theirs).await.unwrap(),
        [("SHIPPED".to_owned(), 1)]
    );
}

async fn acceptances_reserved_on_one_sequence_hold_stock_until_the_shop_has_the_order(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let id = channel(&s, mine, ChannelStatus::Live).await;
    let other = channel(&s, theirs, ChannelStatus::Live).await;
    let mut orders = Vec::new();
    for n in 0..6 {
        let order = mirakl_order(&format!("O-{n}"), "WAITING_ACCEPTANCE", T0);
        orders.push(s.upsert_order(mine, id, &order, T0).await.unwrap().id());
    }
    let foreign = s
        .upsert_order(
            theirs,
            other,
            &mirakl_order("X", "WAITING_ACCEPTANCE", T0),
            T0,
        )
        .await
        .unwrap()
        .id();
    s.reserve_acceptance(
        theirs,
        foreign,
        "accept",
        "{}",
        &[("A".into(), 50)],
        None,
        T0,
    )
    .await
    .unwrap();

    // Six workers decide on what they saw at one sequence: one reserves, the others decide
    // again.
    let seen = s.acceptance_seq(mine).await.unwrap();
    let mut racing = tokio::task::JoinSet::new();
    for order in orders.clone() {
        let s = s.clone();
        racing.spawn(async move {
            s.reserve_acceptance(
                mine,
                order,
                "accept",
                "{}",
                &[("A".into(), 2)],
                Some(seen),
                T0,
            )
            .await
            .unwrap()
        });
    }
    let mut reserved = 0;
    while let Some(outcome) = racing.join_next().await {
        match outcome.unwrap() {
            Some(StepReservation::Fresh) => reserved += 1,
            None => {}
            other => panic!("nothing was reserved before: {other:?}"),
        }
    }
    assert_eq!(reserved, 1);
    assert_eq!(s.acceptance_seq(mine).await.unwrap(), seen + 1);
    let mut holder = None;
    for order in &orders {
        if s.order_step(mine, *order, "accept")
            .await
            .unwrap()
            .is_some()
        {
            holder = Some(*order);
        }
    }
    let holder = holder.expect("the order that reserved");
    let held = |except| {
        let s = s.clone();
        async move { s.held_stock(mine, except).await.unwrap() }
    };
    assert!(
        held(Some(holder)).await.is_empty(),
        "an order's own hold is left out"
    );
    assert_eq!(held(None).await.get("A"), Some(&2));

    // What orders hold changes what a channel may sell: each change of the holds stamps the
    // items held, so that the next delta export sends them again.
    s.upsert_catalog_items(
        mine,
        &[
            catalog_row("A", 1, "A", "{}", T0),
            catalog_row("B", 2, "B", "{}", T0),
            catalog_row("C", 3, "C", "{}", T0),
        ],
    )
    .await
    .unwrap();
    let changed_since = |since| {
        let s = s.clone();
        async move {
            s.catalog_changed_page(mine, since, None, 100)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.sku)
                .collect::<Vec<_>>()
        }
    };
    s.upsert_catalog_items(theirs, &[catalog_row("A", 1, "A", "{}", T0)])
        .await
        .unwrap();
    let their_version = s.catalog_version(theirs).await.unwrap();
    let version = s.catalog_version(mine).await.unwrap();

    // Without a sequence (the seller's own decision) it always reserves; holds add up.
    let second = *orders.iter().find(|o| **o != holder).unwrap();
    assert_eq!(
        s.reserve_acceptance(
            mine,
            second,
            "accept",
            "{}",
            &[("A".into(), 3), ("B".into(), 1)],
            None,
            T0
        )
        .await
        .unwrap(),
        Some(StepReservation::Fresh)
    );
    let all = held(None).await;
    assert_eq!(
        (all.get("A"), all.get("B")),
        (Some(&5), Some(&1)),
        "another workspace's hold is not counted"
    );
    assert_eq!(changed_since(version).await, ["A", "B"], "holds taken");
    let version = s.catalog_version(mine).await.unwrap();

    // In the shop, the shop's stock counts it (and the shop's read stamps the item); finished,
    // it holds nothing; released, neither.
    s.set_shop_order(mine, holder, 501, "501", "processing", T0)
        .await
        .unwrap();
    assert_eq!(held(None).await.get("A"), Some(&3));
    assert!(changed_since(version).await.is_empty());
    assert!(s.finish_order(mine, second, T0).await.unwrap(), "it held");
    assert!(held(None).await.is_empty());
    assert_eq!(changed_since(version).await, ["A", "B"], "holds released");
    assert!(!s.finish_order(mine, second, T0).await.unwrap());
    let version = s.catalog_version(mine).await.unwrap();
    assert!(
        s.hold_stock(mine, orders[5], &[("C".into(), 4)])
            .await
            .unwrap()
    );
    assert!(
        !s.hold_stock(mine, orders[5], &[("C".into(), 9)])
            .await
            .unwrap()
    );
    assert_eq!(held(None).await.get("C"), Some(&4), "recorded once");
    assert_eq!(changed_since(version).await, ["C"]);
    let version = s.catalog_version(mine).await.unwrap();
    assert!(s.release_stock(mine, orders[5]).await.unwrap());
    assert!(!s.release_stock(mine, orders[5]).await.unwrap());
    assert!(held(None).await.is_empty());
    assert_eq!(changed_since(version).await, ["C"]);

    // An order waiting for its acceptance holds its lines as pending: off sale, but left out of
    // other orders' decisions; its acceptance turns them into what it accepted.
    let waiting = s
        .upsert_order(mine, id, &mirakl_order("O-9", "WAITING_ACCEPTANCE", T0), T0)
        .await
        .unwrap()
        .id();
    let version = s.catalog_version(mine).await.unwrap();
    let their_off = s.stock_off_sale(theirs).await.unwrap();
    assert!(
        s.hold_pending(mine, waiting, &[("A".into(), 2), ("B".into(), 1)])
            .await
            .unwrap()
    );
    assert!(
        !s.hold_pending(mine, waiting, &[("A".into(), 7)])
            .await
            .unwrap(),
        "recorded once"
    );
    assert!(held(None).await.is_empty(), "not counted by decisions");
    let off = s.stock_off_sale(mine).await.unwrap();
    assert_eq!((off.get("A"), off.get("B")), (Some(&2), Some(&1)));
    assert_eq!(s.stock_off_sale(theirs).await.unwrap(), their_off);
    assert_eq!(changed_since(version).await, ["A", "B"]);
    let version = s.catalog_version(mine).await.unwrap();
    assert_eq!(
        s.reserve_acceptance(mine, waiting, "accept", "{}", &[("A".into(), 2)], None, T0)
            .await
            .unwrap(),
        Some(StepReservation::Fresh)
    );
    assert_eq!(held(None).await.get("A"), Some(&2));
    let off = s.stock_off_sale(mine).await.unwrap();
    assert_eq!((off.get("A"), off.get("B")), (Some(&2), None), "B refused");
    assert_eq!(changed_since(version).await, ["A", "B"]);
    assert!(
        !s.hold_pending(mine, waiting, &[("C".into(), 1)])
            .await
            .unwrap(),
        "a decided order is not pending again"
    );
    assert!(s.finish_order(mine, waiting, T0).await.unwrap());
    assert!(s.stock_off_sale(mine).await.unwrap().is_empty());

    assert!(
        s.catalog_changed_page(theirs, their_version, None, 100)
            .await
            .unwrap()
            .is_empty(),
        "another workspace's catalog is not stamped"
    );
}

async fn a_signed_payload_signs_in_once_even_when_requests_race(s: Storage) {
    let takes = (0..8).map(|_| {
        let s = s.clone();
        tokio::spawn(async move { s.use_signed_payload(b"jti-hash-1", T0).await.unwrap() })
    });
    let mut taken = 0;
    for take in takes {
        taken += usize::from(take.await.unwrap());
    }
    assert_eq!(taken, 1, "one of the racing requests takes it");
    assert!(!s.use_signed_payload(b"jti-hash-1", T0 + 1).await.unwrap());
    assert!(s.use_signed_payload(b"jti-hash-2", T0 + 1).await.unwrap());
    // Long past any payload's lifetime its id is dropped.
    let later = T0 + storage::signed_payload::USED_PAYLOAD_KEPT_MS + 10;
    assert!(s.use_signed_payload(b"jti-hash-1", later).await.unwrap());
}

async fn a_bigcommerce_store_is_found_with_its_workspace_owner_and_an_uninstall_is_remembered(
    s: Storage,
) {
    let ws = workspace(&s, "owner@example.com").await;
    let other = workspace(&s, "other@example.com").await;
    let store = "https://api.bigcommerce.com/stores/abc123/";
    let bc = NewShop {
        platform: ShopPlatform::BigCommerce,
        store_url: store.to_owned(),
        consumer_key: Secret::new("abc123".to_owned()),
        connection: ShopConnection::AppAuthorization,
        ..new_shop("bc")
    };
    s.connect_shop(ws, &bc, T0).await.unwrap();
    s.connect_shop(other, &new_shop("woo"), T0).await.unwrap();
    let found = s
        .find_shops_at(ShopPlatform::BigCommerce, store)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].workspace_id, ws);
    assert!(
        s.find_shops_at(ShopPlatform::WooCommerce, store)
            .await
            .unwrap()
            .is_empty(),
        "another platform's shop at the same address is another shop"
    );
    let owner = s.workspace_owner(ws).await.unwrap().unwrap();
    assert_eq!(owner.email, "owner@example.com");
    assert_eq!(s.workspace_owner(WorkspaceId::new()).await.unwrap(), None);

    assert!(matches!(
        s.set_disconnect_reason(ws, "bigcommerce_uninstalled").await,
        Err(StorageError::NotFound)
    ));
    s.start_disconnect(ws, None, DisconnectChoice::Keep, T0 + 1)
        .await
        .unwrap();
    s.set_disconnect_reason(ws, "bigcommerce_uninstalled")
        .await
        .unwrap();
    s.delete_workspace_data(ws, DisconnectChoice::Keep, T0 + 2)
        .await
        .unwrap();
    assert_eq!(
        s.disconnect_receipt_with_reason(ws).await.unwrap(),
        Some((
            DisconnectChoice::Keep,
            T0 + 2,
            Some("bigcommerce_uninstalled".to_owned())
        ))
    );
    // A later disconnect the seller starts carries no reason.
    s.start_disconnect(ws, None, DisconnectChoice::Delete, T0 + 3)
        .await
        .unwrap();
    s.delete_workspace_data(ws, DisconnectChoice::Delete, T0 + 4)
        .await
        .unwrap();
    assert_eq!(
        s.disconnect_receipt_with_reason(ws).await.unwrap(),
        Some((DisconnectChoice::Delete, T0 + 4, None))
    );
}

// ---------------------------------------------------------------- operators' view

/// A job claimed by `worker` and buried at `at`: a dead job, as the worker leaves one.
async fn dead_job(s: &Storage, job: &NewJob, at: i64) -> JobId {
    let worker = Uuid::now_v7();
    let id = s.enqueue_job(job).await.unwrap().unwrap();
    let claimed = s.claim_job(worker, at, MINUTE).await.unwrap().unwrap();
    assert_eq!(
        claimed.id, id,
        "the test queue holds only this job when it claims"
    );
    assert!(
        s.bury_job(id, worker, "Mirakl answered 500", at)
            .await
            .unwrap()
    );
    id
}

async fn a_stopping_worker_hands_its_jobs_back_without_spending_attempts(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let (stopping, other) = (Uuid::now_v7(), Uuid::now_v7());
    for flow in ["a", "b", "c", "d"] {
        s.enqueue_job(&job(Some(ws), flow, T0))
            .await
            .unwrap()
            .unwrap();
    }
    let a = s.claim_job(stopping, T0, MINUTE).await.unwrap().unwrap();
    let b = s.claim_job(stopping, T0, MINUTE).await.unwrap().unwrap();
    let c = s.claim_job(other, T0, MINUTE).await.unwrap().unwrap();
    let d = s.claim_job(stopping, T0, MINUTE).await.unwrap().unwrap();
    assert!(s.complete_job(d.id, stopping, T0 + 1).await.unwrap());

    assert_eq!(s.release_worker_leases(stopping, T0 + 2).await.unwrap(), 2);
    for id in [a.id, b.id] {
        let job = s.get_job(id).await.unwrap().unwrap();
        assert_eq!(
            (job.status, job.attempts, job.lease_until_ms, job.run_at_ms),
            (JobStatus::Queued, 0, None, T0 + 2),
            "queued again, due at once, the attempt not counted"
        );
    }
    let c = s.get_job(c.id).await.unwrap().unwrap();
    assert_eq!(
        c.status,
        JobStatus::Running,
        "another worker's job is its own"
    );
    let d = s.get_job(d.id).await.unwrap().unwrap();
    assert_eq!(d.status, JobStatus::Done, "a finished job stays finished");

    let next = s.claim_job(other, T0 + 2, MINUTE).await.unwrap().unwrap();
    assert!(
        [a.id, b.id].contains(&next.id),
        "another worker takes them at once"
    );
    assert_eq!(s.release_worker_leases(stopping, T0 + 3).await.unwrap(), 0);
}

async fn the_queue_is_counted_per_flow(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let worker = Uuid::now_v7();
    // Claimed first, so that the claims below take exactly these.
    dead_job(&s, &job(Some(ws), "export", T0), T0).await;
    s.enqueue_job(&job(Some(ws), "export", T0))
        .await
        .unwrap()
        .unwrap();
    s.claim_job(worker, T0, MINUTE).await.unwrap().unwrap();
    let done = s
        .enqueue_job(&job(Some(ws), "health", T0))
        .await
        .unwrap()
        .unwrap();
    s.claim_job(worker, T0, MINUTE).await.unwrap().unwrap();
    s.complete_job(done, worker, T0).await.unwrap();
    for run_at in [T0 + 5, T0 + 10, T0 + 60 * MINUTE] {
        s.enqueue_job(&job(Some(ws), "order_step", run_at))
            .await
            .unwrap()
            .unwrap();
    }

    // The running export's lease (a minute from T0) has run out by then.
    let now = T0 + MINUTE + 1;
    assert_eq!(
        s.queue_counts(now).await.unwrap(),
        vec![
            FlowQueue {
                flow: "export".to_owned(),
                queued: 0,
                due: 0,
                running: 1,
                lease_expired: 1,
                dead: 1,
                oldest_due_ms: None,
            },
            FlowQueue {
                flow: "order_step".to_owned(),
                queued: 3,
                due: 2,
                running: 0,
                lease_expired: 0,
                dead: 0,
                oldest_due_ms: Some(T0 + 5),
            },
        ],
        "flows sorted; a flow with only finished jobs left out"
    );
    assert_eq!(s.dead_job_count().await.unwrap(), 1);
}

async fn jobs_are_listed_by_status_with_their_attempts(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let (crashed, survivor) = (Uuid::now_v7(), Uuid::now_v7());
    let first = s
        .enqueue_job(&job(Some(ws), "export", T0))
        .await
        .unwrap()
        .unwrap();
    let later = s
        .enqueue_job(&job(Some(ws), "import", T0 + 1000 * MINUTE))
        .await
        .unwrap()
        .unwrap();
    s.claim_job(crashed, T0, MINUTE).await.unwrap().unwrap();
    let running = s.jobs_in_status(JobStatus::Running, 10).await.unwrap();
    assert_eq!(running.iter().map(|j| j.id).collect::<Vec<_>>(), [first]);
    assert_eq!(s.running_job_owners().await.unwrap(), [(first, crashed)]);
    // Its worker died: the lease runs out, another worker runs it to its end.
    s.reap_expired_leases(T0 + MINUTE + 1).await.unwrap();
    let again = s
        .claim_job(survivor, T0 + MINUTE + 1, MINUTE)
        .await
        .unwrap()
        .unwrap();
    assert!(
        s.complete_job(again.id, survivor, T0 + MINUTE + 2)
            .await
            .unwrap()
    );
    let done = s.jobs_in_status(JobStatus::Done, 10).await.unwrap();
    assert_eq!(
        done.iter().map(|j| (j.id, j.attempts)).collect::<Vec<_>>(),
        [(first, 2)]
    );
    let queued = s.jobs_in_status(JobStatus::Queued, 10).await.unwrap();
    assert_eq!(queued.iter().map(|j| j.id).collect::<Vec<_>>(), [later]);
    assert!(
        s.jobs_in_status(JobStatus::Running, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.running_job_owners().await.unwrap().is_empty());
    assert!(
        s.jobs_in_status(JobStatus::Done, 0)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn dead_jobs_are_listed_retried_and_dropped(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let export = dead_job(&s, &job(Some(mine), "export", T0), T0 + 1).await;
    let step = dead_job(&s, &job(Some(mine), "order_step", T0), T0 + 2).await;
    let their_step = dead_job(&s, &job(Some(theirs), "order_step", T0), T0 + 3).await;
    // Not due for long, so that `dead_job` below claims only the job it queues.
    let queued = s
        .enqueue_job(&job(Some(mine), "export", T0 + 1000 * MINUTE))
        .await
        .unwrap()
        .unwrap();

    let listed = |filter: DeadJobsFilter, limit: i64| {
        let s = s.clone();
        async move {
            s.dead_jobs(&filter, limit)
                .await
                .unwrap()
                .into_iter()
                .map(|d| (d.job.id, d.died_at_ms))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        listed(DeadJobsFilter::default(), 10).await,
        [(their_step, T0 + 3), (step, T0 + 2), (export, T0 + 1)],
        "the most recently dead first; the queued job is not dead"
    );
    assert_eq!(listed(DeadJobsFilter::default(), 1).await.len(), 1);
    let steps = DeadJobsFilter {
        flow: Some("order_step".to_owned()),
        ..Default::default()
    };
    assert_eq!(
        listed(steps.clone(), 10).await,
        [(their_step, T0 + 3), (step, T0 + 2)]
    );
    let my_steps = DeadJobsFilter {
        workspace_id: Some(mine),
        ..steps.clone()
    };
    assert_eq!(listed(my_steps.clone(), 10).await, [(step, T0 + 2)]);
    let dead = s.dead_jobs(&my_steps, 10).await.unwrap().remove(0).job;
    assert_eq!(
        (dead.status, dead.last_error.as_deref()),
        (JobStatus::Dead, Some("Mirakl answered 500"))
    );

    // One retried: queued, due now, all its attempts back.
    let now = T0 + 10 * MINUTE;
    assert_eq!(
        s.retry_dead_job(export, now).await.unwrap(),
        DeadJobRetry::Queued
    );
    let retried = s.get_job(export).await.unwrap().unwrap();
    assert_eq!(
        (retried.status, retried.attempts, retried.run_at_ms),
        (JobStatus::Queued, 0, now)
    );
    assert_eq!(
        s.retry_dead_job(export, now).await.unwrap(),
        DeadJobRetry::NotDead(JobStatus::Queued),
        "a second retry changes nothing"
    );
    assert!(matches!(
        s.retry_dead_job(JobId::new(), now).await,
        Err(StorageError::NotFound)
    ));

    // Only dead jobs are dropped.
    assert_eq!(
        s.drop_dead_job(queued).await.unwrap(),
        DeadJobDrop::NotDead(JobStatus::Queued)
    );
    assert!(s.get_job(queued).await.unwrap().is_some());
    assert!(matches!(
        s.drop_dead_job(JobId::new()).await,
        Err(StorageError::NotFound)
    ));
    assert_eq!(s.drop_dead_job(step).await.unwrap(), DeadJobDrop::Dropped);
    assert_eq!(s.get_job(step).await.unwrap(), None);

    // All of a flow retried, then all dropped.
    let again = dead_job(&s, &job(Some(mine), "order_step", T0), now).await;
    assert_eq!(
        s.retry_dead_jobs(
            &DeadJobsFilter {
                flow: Some("order_step".to_owned()),
                workspace_id: Some(theirs),
            },
            now
        )
        .await
        .unwrap(),
        DeadJobsRetried {
            queued: 1,
            covered: 0
        }
    );
    assert_eq!(
        s.get_job(their_step).await.unwrap().unwrap().status,
        JobStatus::Queued
    );
    assert_eq!(
        s.get_job(again).await.unwrap().unwrap().status,
        JobStatus::Dead,
        "another workspace's job is left alone"
    );
    assert_eq!(
        s.drop_dead_jobs(&DeadJobsFilter {
            flow: Some("export".to_owned()),
            ..Default::default()
        })
        .await
        .unwrap(),
        0,
        "no dead export left"
    );
    assert_eq!(
        s.drop_dead_jobs(&DeadJobsFilter::default()).await.unwrap(),
        1
    );
    assert_eq!(s.dead_job_count().await.unwrap(), 0);
    assert_eq!(
        s.get_job(export).await.unwrap().unwrap().status,
        JobStatus::Queued,
        "dropping all the dead leaves the live"
    );
}

async fn a_retried_dead_job_whose_work_is_live_is_dropped_not_doubled(s: Storage) {
    let ws = workspace(&s, "me@example.com").await;
    let keyed = |key: &str, run_at_ms: i64| NewJob {
        dedupe_key: Some(key.to_owned()),
        ..job(Some(ws), "export", run_at_ms)
    };
    // Live twins wait until later, so that `dead_job` claims only the job it queued.
    let later = T0 + 60 * MINUTE;

    // One by id: a live job holds the key.
    let dead = dead_job(&s, &keyed("export:1", T0), T0).await;
    let live = s
        .enqueue_job(&keyed("export:1", later))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s.retry_dead_job(dead, T0 + 1).await.unwrap(),
        DeadJobRetry::CoveredByLiveJob(live)
    );
    assert_eq!(s.get_job(dead).await.unwrap(), None, "dropped");
    assert_eq!(
        s.get_job(live).await.unwrap().unwrap().status,
        JobStatus::Queued
    );

    // All at once: the dead twin of a live job is dropped, and of two dead twins only the
    // most recently dead is queued.
    let covered = dead_job(&s, &keyed("export:3", T0), T0 + 2).await;
    let older = dead_job(&s, &keyed("export:2", T0), T0 + 3).await;
    let newer = dead_job(&s, &keyed("export:2", T0), T0 + 4).await;
    let live3 = s
        .enqueue_job(&keyed("export:3", later))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s.retry_dead_jobs(&DeadJobsFilter::default(), T0 + 5)
            .await
            .unwrap(),
        DeadJobsRetried {
            queued: 1,
            covered: 2
        }
    );
    assert_eq!(s.get_job(covered).await.unwrap(), None);
    assert_eq!(s.get_job(older).await.unwrap(), None);
    for id in [newer, live3, live] {
        assert_eq!(
            s.get_job(id).await.unwrap().unwrap().status,
            JobStatus::Queued
        );
    }
    assert_eq!(s.dead_job_count().await.unwrap(), 0);
}

async fn channels_and_shops_needing_attention_say_why(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let fine = channel(&s, mine, ChannelStatus::Live).await;
    let refused = channel(&s, mine, ChannelStatus::ReauthorizationNeeded).await;
    let renewing = channel(&s, theirs, ChannelStatus::Live).await;
    let failing = channel(&s, theirs, ChannelStatus::Live).await;
    s.store_tokens(mine, fine, &tokens(ACCESS, Some(REFRESH), T0), T0)
        .await
        .unwrap();
    s.store_tokens(theirs, renewing, &tokens(ACCESS, Some(REFRESH), T0), T0)
        .await
        .unwrap();
    let owner = Uuid::now_v7();
    s.lock_token_refresh(theirs, renewing, owner, T0, MINUTE)
        .await
        .unwrap()
        .unwrap();
    let timeout = RefreshOutcome::Failed {
        error: "timeout".to_owned(),
        reauthorization_needed: false,
    };
    assert!(
        s.finish_token_refresh(theirs, renewing, owner, timeout, T0 + 1)
            .await
            .unwrap()
    );
    s.set_channel_error(theirs, failing, Some("Mirakl said no"), T0 + 2)
        .await
        .unwrap();
    let healthy_shop = s.connect_shop(mine, &new_shop("a"), T0).await.unwrap().id;
    let down = s.connect_shop(theirs, &new_shop("b"), T0).await.unwrap().id;
    s.record_shop_health(
        theirs,
        down,
        ShopHealth::Unreachable,
        Some("connection refused"),
        T0 + 3,
    )
    .await
    .unwrap();
    let _ = healthy_shop;

    let mut seen: Vec<_> = s
        .needing_attention()
        .await
        .unwrap()
        .into_iter()
        .map(|a| {
            let subject = match a.subject {
                AttentionSubject::Channel { id, .. } => id.0,
                AttentionSubject::Shop { id, .. } => id.0,
            };
            (a.workspace_id, subject, a.reason, a.detail)
        })
        .collect();
    seen.sort_by_key(|(_, _, reason, _)| *reason);
    assert_eq!(
        seen,
        vec![
            (
                mine,
                refused.0,
                AttentionReason::ReauthorizationNeeded,
                None
            ),
            (
                theirs,
                renewing.0,
                AttentionReason::TokenRenewalFailing,
                Some("timeout".to_owned())
            ),
            (
                theirs,
                failing.0,
                AttentionReason::ChannelError,
                Some("Mirakl said no".to_owned())
            ),
            (
                theirs,
                down.0,
                AttentionReason::ShopUnreachable,
                Some("connection refused".to_owned())
            ),
        ],
        "the healthy channel and shop are not listed"
    );
}

async fn orders_not_in_their_shop_are_counted_per_workspace_oldest_first(s: Storage) {
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let my_channel = channel(&s, mine, ChannelStatus::Live).await;
    let their_channel = channel(&s, theirs, ChannelStatus::Live).await;
    assert_eq!(s.oldest_pending_order().await.unwrap(), None);
    let import = |ws, channel, id: &'static str, at| {
        let s = s.clone();
        async move {
            s.upsert_order(ws, channel, &mirakl_order(id, "SHIPPING", T0), at)
                .await
                .unwrap()
                .id()
        }
    };
    let in_shop = import(mine, my_channel, "M-1", T0).await;
    let finished = import(mine, my_channel, "M-2", T0 + 1).await;
    let waiting = import(mine, my_channel, "M-3", T0 + 20).await;
    let pending = import(mine, my_channel, "M-4", T0 + 30).await;
    let oldest = import(theirs, their_channel, "T-1", T0 + 10).await;
    s.set_shop_order(mine, in_shop, 77, "1077", "processing", T0)
        .await
        .unwrap();
    s.finish_order(mine, finished, T0).await.unwrap();
    s.set_order_attention(mine, waiting, Some("Accept or refuse it"), T0)
        .await
        .unwrap();
    let _ = pending;

    let per_workspace: Vec<_> = s
        .pending_orders()
        .await
        .unwrap()
        .into_iter()
        .map(|p| {
            (
                p.workspace_id,
                p.not_in_shop,
                p.attention,
                p.oldest_imported_at_ms,
            )
        })
        .collect();
    assert_eq!(
        per_workspace,
        [(theirs, 1, 0, T0 + 10), (mine, 2, 1, T0 + 20)],
        "the longest-waiting workspace first"
    );
    let found = s.oldest_pending_order().await.unwrap().unwrap();
    assert_eq!(
        (
            found.workspace_id,
            found.order_id,
            found.mirakl_order_id.as_str(),
            found.imported_at_ms
        ),
        (theirs, oldest, "T-1", T0 + 10)
    );
}

async fn the_schema_state_names_missing_and_newer_migrations(s: Storage) {
    let state = s.schema_state().await.unwrap();
    assert!(state.is_current(), "{state:?}");
    assert_eq!(state.problem(), None);

    const NEWEST: &str = "SELECT MAX(version) FROM _sqlx_migrations";
    const FORGET: &str = "DELETE FROM _sqlx_migrations WHERE version = $1";
    const FROM_THE_FUTURE: &str = "INSERT INTO _sqlx_migrations \
         (version, description, success, checksum, execution_time) VALUES ($1, 'later', TRUE, $2, 0)";
    let newest: i64 = match s.raw_pool() {
        RawPool::Sqlite(p) => sqlx::query_scalar(NEWEST).fetch_one(p).await.unwrap(),
        RawPool::Postgres(p) => sqlx::query_scalar(NEWEST).fetch_one(p).await.unwrap(),
    };
    match s.raw_pool() {
        RawPool::Sqlite(p) => {
            sqlx::query(FORGET).bind(newest).execute(p).await.unwrap();
            sqlx::query(FROM_THE_FUTURE)
                .bind(99_990_101_i64)
                .bind(vec![0_u8; 48])
                .execute(p)
                .await
                .unwrap();
        }
        RawPool::Postgres(p) => {
            sqlx::query(FORGET).bind(newest).execute(p).await.unwrap();
            sqlx::query(FROM_THE_FUTURE)
                .bind(99_990_101_i64)
                .bind(vec![0_u8; 48])
                .execute(p)
                .await
                .unwrap();
        }
    }
    let state = s.schema_state().await.unwrap();
    assert!(!state.is_current());
    assert_eq!(
        state.missing.iter().map(|(v, _)| *v).collect::<Vec<_>>(),
        [newest]
    );
    assert_eq!(state.unknown, [99_990_101]);
    let problem = state.problem().unwrap();
    assert!(problem.contains("marketbridge migrate"), "{problem}");
}

async fn token_expiries_and_items_in_error_are_read_across_workspaces(s: Storage) {
    assert_eq!(s.token_expiries().await.unwrap(), Vec::new());
    assert_eq!(s.catalog_items_in_error().await.unwrap(), 0);
    let mine = workspace(&s, "me@example.com").await;
    let theirs = workspace(&s, "them@example.com").await;
    let my_channel = channel(&s, mine, ChannelStatus::Live).await;
    let their_channel = channel(&s, theirs, ChannelStatus::Live).await;
    s.store_tokens(
        mine,
        my_channel,
        &tokens(ACCESS, Some(REFRESH), T0 + 2 * MINUTE),
        T0,
    )
    .await
    .unwrap();
    s.store_tokens(
        theirs,
        their_channel,
        &tokens(ACCESS, None, T0 + MINUTE),
        T0,
    )
    .await
    .unwrap();
    assert_eq!(
        s.token_expiries().await.unwrap(),
        vec![(their_channel, T0 + MINUTE), (my_channel, T0 + 2 * MINUTE)],
        "soonest first"
    );

    s.record_sent(mine, my_channel, &sent(&["LIVE"]), None, T0)
        .await
        .unwrap();
    s.record_item_errors(mine, my_channel, &errors(&[("A", "no price")]), T0)
        .await
        .unwrap();
    s.record_item_errors(
        theirs,
        their_channel,
        &errors(&[("B", "no GTIN"), ("C", "no price")]),
        T0,
    )
    .await
    .unwrap();
    assert_eq!(s.catalog_items_in_error().await.unwrap(), 3);
}
