//! Who is acting. The caller (the HTTP layer, or an embedding service)
//! authenticates; the rules decide what that person may do.

use crate::UserId;
use serde::{Deserialize, Serialize};

/// A user's role (docs/product.md §1): new sign-ups are students, staff promote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Books lessons.
    Student,
    /// Opens slots and teaches.
    Teacher,
    /// Runs the school: may act on anyone's behalf.
    Staff,
}

impl Role {
    /// Stable text form.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Student => "student",
            Self::Teacher => "teacher",
            Self::Staff => "staff",
        }
    }
}

/// An authenticated user acting on the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    /// The user.
    pub user: UserId,
    /// The role they act in.
    pub role: Role,
}

impl Actor {
    /// A student.
    pub fn student(user: UserId) -> Self {
        Self {
            user,
            role: Role::Student,
        }
    }

    /// A teacher.
    pub fn teacher(user: UserId) -> Self {
        Self {
            user,
            role: Role::Teacher,
        }
    }

    /// A staff member.
    pub fn staff(user: UserId) -> Self {
        Self {
            user,
            role: Role::Staff,
        }
    }

    /// Staff may act on anything.
    pub fn is_staff(&self) -> bool {
        self.role == Role::Staff
    }

    /// True when the actor is `owner` or staff.
    pub fn is_or_staff(&self, owner: UserId) -> bool {
        self.user == owner || self.is_staff()
    }
}
