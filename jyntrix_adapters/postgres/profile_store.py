"""ProfileStore on Postgres: one row per user."""

from __future__ import annotations

from jyntrix_adapters.postgres.pool import OnDatabase
from jyntrix_adapters.postgres.rows import from_row
from jyntrix_domain.model import Profile, UserId


class PostgresProfileStore(OnDatabase):
    """ProfileStore backed by the `profiles` table."""

    async def get(self, user_id: UserId) -> Profile | None:
        row = await self._db.user_fetchrow(
            user_id, "SELECT user_id, display_name, preferences, updated_at FROM profiles WHERE user_id = $1", user_id
        )
        if row is None:
            return None
        return from_row(Profile, row)

    async def put(self, profile: Profile) -> Profile:
        """Create or replace the user's profile."""
        async with self._db.user_tx(profile.user_id) as conn:
            await conn.execute(
                "INSERT INTO profiles (user_id, display_name, preferences, updated_at) VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (user_id) DO UPDATE SET display_name = EXCLUDED.display_name,"
                " preferences = EXCLUDED.preferences, updated_at = EXCLUDED.updated_at",
                profile.user_id,
                profile.display_name,
                profile.preferences,
                profile.updated_at,
            )
        return profile

    async def forget_user(self, user_id: UserId) -> bool:
        async with self._db.user_tx(user_id) as conn:
            status = await conn.execute("DELETE FROM profiles WHERE user_id = $1", user_id)
        return bool(status == "DELETE 1")
