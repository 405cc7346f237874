"""The Telegram transport (aiogram 3): routers translate chat into service calls and results into replies."""
