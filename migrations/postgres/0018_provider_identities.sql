-- Providers whose users have two ids: one per application (WeChat's, QQ's and DingTalk's
-- `openid`, Feishu's `open_id`, Alipay's `open_id`) and one across all the applications of
-- one platform account (`unionid`, `union_id`, Alipay's `user_id`). The same person signing
-- in through two applications of one WeChat Open Platform account has two openids and one
-- unionid, so the unionid is what names the person.
--
-- external_identities.subject stays the key of the identity at its provider: the union id
-- when the provider gave one, else the per-application id. app_subject is always the
-- per-application id (existing rows: their subject). union_group names the providers that
-- share union ids (two WeChat applications of one Open Platform account): an identity is found
-- by (union_group, union_id) from any provider of the group.
ALTER TABLE external_identities ADD COLUMN app_subject TEXT NOT NULL DEFAULT '';
ALTER TABLE external_identities ADD COLUMN union_id TEXT;
ALTER TABLE external_identities ADD COLUMN union_group TEXT;
UPDATE external_identities SET app_subject = subject;
-- One identity per application id at a provider, however it is keyed.
CREATE UNIQUE INDEX external_identities_app_subject ON external_identities(provider, app_subject);
CREATE INDEX external_identities_union ON external_identities(union_group, union_id);

-- The same three for an identity waiting on /o/login/finish/.
ALTER TABLE pending_identities ADD COLUMN app_subject TEXT NOT NULL DEFAULT '';
ALTER TABLE pending_identities ADD COLUMN union_id TEXT;
ALTER TABLE pending_identities ADD COLUMN union_group TEXT;
UPDATE pending_identities SET app_subject = subject;
