DROP TABLE user_consents;
DROP TABLE users;
