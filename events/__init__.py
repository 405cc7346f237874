"""The domain core: models and services. No HTTP, no Telegram."""
