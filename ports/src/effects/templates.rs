//! Email texts, in Korean and English, with every time shown in the
//! recipient's zone. Pure functions: the same inputs always give the same
//! message, so they are tested without any I/O.

use time::{Duration, OffsetDateTime};
use tutorbook_domain::{Locale, Money, Zone};

use crate::Contact;

/// A subject line and a plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
}

/// Whom a message is for and how they read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reader<'a> {
    /// The recipient's display name.
    pub name: &'a str,
    /// Their language.
    pub locale: Locale,
    /// The zone their times are shown in.
    pub zone: Zone,
}

impl<'a> Reader<'a> {
    /// A reader as their contact card describes them.
    pub fn of(contact: &'a Contact) -> Self {
        Self {
            name: &contact.display_name,
            locale: contact.locale,
            zone: contact.zone,
        }
    }
}

/// The lesson a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lesson<'a> {
    /// The teacher's display name.
    pub teacher: &'a str,
    /// The student's display name (for a group lesson sent to the teacher:
    /// the student the message is about).
    pub student: &'a str,
    /// Start instant.
    pub start: OffsetDateTime,
    /// End instant.
    pub end: OffsetDateTime,
    /// Where to join, when known.
    pub join_url: Option<&'a str>,
}

const WEEKDAYS_EN: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const WEEKDAYS_KO: [&str; 7] = ["월", "화", "수", "목", "금", "토", "일"];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `start`–`end` on the reader's wall clock, with the zone and its offset at
/// the start: `Sunday, 8 March 2026, 10:00–10:50 (America/New_York, UTC-04:00)`
/// or `2026년 3월 8일 (일) 10:00–10:50 (America/New_York, UTC-04:00)`.
pub fn lesson_time(reader: &Reader<'_>, start: OffsetDateTime, end: OffsetDateTime) -> String {
    let to = reader.zone.to_local(end);
    on_the_clock(reader, start, &format!("–{:02}:{:02}", to.hour(), to.minute()))
}

/// One instant on the reader's wall clock, like [`lesson_time`]:
/// `Sunday, 8 March 2026, 10:00 (America/New_York, UTC-04:00)`.
pub fn moment(reader: &Reader<'_>, at: OffsetDateTime) -> String {
    on_the_clock(reader, at, "")
}

/// The local day and time of `at`, then `after` (an end time, or nothing),
/// then the zone and its offset at `at`.
fn on_the_clock(reader: &Reader<'_>, at: OffsetDateTime, after: &str) -> String {
    let from = reader.zone.to_local(at);
    let day = from.weekday().number_days_from_monday() as usize;
    let offset = from.offset();
    let (h, m) = (offset.whole_hours(), offset.minutes_past_hour().abs());
    let sign = if offset.is_negative() { '-' } else { '+' };
    let zone = format!("{}, UTC{sign}{:02}:{m:02}", reader.zone.name(), h.abs());
    let clock = format!("{:02}:{:02}{after}", from.hour(), from.minute());
    match reader.locale {
        Locale::En => format!(
            "{}, {} {} {}, {clock} ({zone})",
            WEEKDAYS_EN[day],
            from.day(),
            MONTHS_EN[usize::from(u8::from(from.month())) - 1],
            from.year()
        ),
        Locale::Ko => format!(
            "{}년 {}월 {}일 ({}) {clock} ({zone})",
            from.year(),
            u8::from(from.month()),
            from.day(),
            WEEKDAYS_KO[day]
        ),
    }
}

fn greeting(reader: &Reader<'_>) -> String {
    match reader.locale {
        Locale::En => format!("Hello {},", reader.name),
        Locale::Ko => format!("{}님, 안녕하세요.", reader.name),
    }
}

fn join_line(reader: &Reader<'_>, lesson: &Lesson<'_>) -> String {
    match (lesson.join_url, reader.locale) {
        (Some(url), Locale::En) => format!("\nJoin: {url}"),
        (Some(url), Locale::Ko) => format!("\n참여 링크: {url}"),
        (None, _) => String::new(),
    }
}

fn body(reader: &Reader<'_>, lines: &[String]) -> String {
    let mut text = greeting(reader);
    text.push_str("\n\n");
    text.push_str(&lines.join("\n"));
    text.push('\n');
    text
}

/// To the teacher: a student asks for a lesson that needs their approval.
pub fn booking_requested(reader: &Reader<'_>, lesson: &Lesson<'_>) -> Rendered {
    let when = lesson_time(reader, lesson.start, lesson.end);
    match reader.locale {
        Locale::En => Rendered {
            subject: format!("New lesson request from {}", lesson.student),
            text: body(
                reader,
                &[
                    format!("{} asked for a lesson with you on {when}.", lesson.student),
                    "Please approve or decline the request before the lesson starts.".into(),
                ],
            ),
        },
        Locale::Ko => Rendered {
            subject: format!("{}님의 새 수업 신청", lesson.student),
            text: body(
                reader,
                &[
                    format!("{}님이 {when} 수업을 신청했습니다.", lesson.student),
                    "수업 시작 전에 승인 또는 거절해 주세요.".into(),
                ],
            ),
        },
    }
}

/// To the student: their seat is confirmed.
pub fn booking_confirmed(reader: &Reader<'_>, lesson: &Lesson<'_>) -> Rendered {
    let when = lesson_time(reader, lesson.start, lesson.end);
    match reader.locale {
        Locale::En => Rendered {
            subject: format!("Your lesson with {} is confirmed", lesson.teacher),
            text: body(
                reader,
                &[format!(
                    "Your lesson with {} on {when} is confirmed.{}",
                    lesson.teacher,
                    join_line(reader, lesson)
                )],
            ),
        },
        Locale::Ko => Rendered {
            subject: format!("{} 선생님 수업이 확정되었습니다", lesson.teacher),
            text: body(
                reader,
                &[format!(
                    "{when} {} 선생님 수업이 확정되었습니다.{}",
                    lesson.teacher,
                    join_line(reader, lesson)
                )],
            ),
        },
    }
}

/// To the student: their request was declined (by the teacher, or because
/// the seat went to someone else, or the slot was cancelled).
pub fn booking_declined(reader: &Reader<'_>, lesson: &Lesson<'_>) -> Rendered {
    let when = lesson_time(reader, lesson.start, lesson.end);
    match reader.locale {
        Locale::En => Rendered {
            subject: format!("Your lesson request with {} was declined", lesson.teacher),
            text: body(
                reader,
                &[
                    format!("Your request for {when} with {} could not be accepted.", lesson.teacher),
                    "Other times may still be open: have a look at the schedule.".into(),
                ],
            ),
        },
        Locale::Ko => Rendered {
            subject: format!("{} 선생님 수업 신청이 거절되었습니다", lesson.teacher),
            text: body(
                reader,
                &[
                    format!("{when} {} 선생님 수업 신청이 받아들여지지 않았습니다.", lesson.teacher),
                    "다른 시간을 확인해 보세요.".into(),
                ],
            ),
        },
    }
}

/// To the student and the teacher: the lesson moved to a new time.
pub fn booking_rescheduled(reader: &Reader<'_>, lesson: &Lesson<'_>) -> Rendered {
    let when = lesson_time(reader, lesson.start, lesson.end);
    match reader.locale {
        Locale::En => Rendered {
            subject: format!("Lesson moved: {} with {}", lesson.student, lesson.teacher),
            text: body(
                reader,
                &[format!(
                    "The lesson of {} with {} now takes place {when}. The earlier time is free again.",
                    lesson.student, lesson.teacher
                )],
            ),
        },
        Locale::Ko => Rendered {
            subject: format!("수업 일정 변경: {} 학생, {} 선생님", lesson.student, lesson.teacher),
            text: body(
                reader,
                &[format!(
                    "{} 학생과 {} 선생님의 수업이 {when}(으)로 변경되었습니다. 이전 시간은 취소되었습니다.",
                    lesson.student, lesson.teacher
                )],
            ),
        },
    }
}

/// To the student: nobody answered their request before the lesson started.
pub fn booking_expired(reader: &Reader<'_>, lesson: &Lesson<'_>) -> Rendered {
    let when = lesson_time(reader, lesson.start, lesson.end);
    match reader.locale {
        Locale::En => Rendered {
            subject: format!("Your lesson request with {} expired", lesson.teacher),
            text: body(
                reader,
                &[
                    format!(
                        "Your request for {when} with {} was not answered before the lesson started, so it has expired.",
                        lesson.teacher
                    ),
                    "Nothing was charged. Other times may still be open: have a look at the schedule.".into(),
                ],
            ),
        },
        Locale::Ko => Rendered {
            subject: format!("{} 선생님 수업 신청이 만료되었습니다", lesson.teacher),
            text: body(
                reader,
                &[
                    format!(
                        "{when} {} 선생님 수업 신청이 수업 시작 전까지 응답을 받지 못해 만료되었습니다.",
                        lesson.teacher
                    ),
                    "결제된 금액은 없습니다. 다른 시간을 확인해 보세요.".into(),
                ],
            ),
        },
    }
}

/// To the student: a seat freed up and they moved from the waitlist into it.
pub fn waitlist_promoted(reader: &Reader<'_>, lesson: &Lesson<'_>) -> Rendered {
    let when = lesson_time(reader, lesson.start, lesson.end);
    match reader.locale {
        Locale::En => Rendered {
            subject: format!("A seat freed up: your lesson with {} is confirmed", lesson.teacher),
            text: body(
                reader,
                &[format!(
                    "A seat freed up in the lesson with {} on {when}, and you were next on the waitlist: your seat is confirmed.{}",
                    lesson.teacher,
                    join_line(reader, lesson)
                )],
            ),
        },
        Locale::Ko => Rendered {
            subject: format!("자리가 났습니다: {} 선생님 수업이 확정되었습니다", lesson.teacher),
            text: body(
                reader,
                &[format!(
                    "{when} {} 선생님 수업에 자리가 나서, 대기 순서에 따라 수업이 확정되었습니다.{}",
                    lesson.teacher,
                    join_line(reader, lesson)
                )],
            ),
        },
    }
}

/// To the student: a seat is theirs if they accept it before `deadline`.
pub fn seat_offered(reader: &Reader<'_>, lesson: &Lesson<'_>, deadline: OffsetDateTime) -> Rendered {
    let when = lesson_time(reader, lesson.start, lesson.end);
    let until = moment(reader, deadline);
    match reader.locale {
        Locale::En => Rendered {
            subject: format!(
                "A seat is free in the lesson with {}: accept by {until}",
                lesson.teacher
            ),
            text: body(
                reader,
                &[
                    format!(
                        "A seat freed up in the lesson with {} on {when}, and you are next on the waitlist.",
                        lesson.teacher
                    ),
                    format!(
                        "It is kept for you until {until}. Accept it before then, or it goes to the next person in line."
                    ),
                ],
            ),
        },
        Locale::Ko => Rendered {
            subject: format!(
                "{} 선생님 수업에 자리가 났습니다: {until}까지 수락하세요",
                lesson.teacher
            ),
            text: body(
                reader,
                &[
                    format!(
                        "{when} {} 선생님 수업에 자리가 났고, 대기 순서가 되었습니다.",
                        lesson.teacher
                    ),
                    format!("{until}까지 자리를 맡아 둡니다. 그 전에 수락하지 않으면 다음 대기자에게 넘어갑니다."),
                ],
            ),
        },
    }
}

/// To the student: the seat offered to them was not accepted in time.
pub fn offer_expired(reader: &Reader<'_>, lesson: &Lesson<'_>) -> Rendered {
    let when = lesson_time(reader, lesson.start, lesson.end);
    match reader.locale {
        Locale::En => Rendered {
            subject: format!("The seat offered in the lesson with {} has gone", lesson.teacher),
            text: body(
                reader,
                &[format!(
                    "The seat offered to you in the lesson with {} on {when} was not accepted in time, so it went to the next person on the waitlist.",
                    lesson.teacher
                )],
            ),
        },
        Locale::Ko => Rendered {
            subject: format!("{} 선생님 수업 자리 제안이 만료되었습니다", lesson.teacher),
            text: body(
                reader,
                &[format!(
                    "{when} {} 선생님 수업 자리를 제때 수락하지 않아 다음 대기자에게 넘어갔습니다.",
                    lesson.teacher
                )],
            ),
        },
    }
}

/// To the student: the lesson started before a seat freed up for them.
pub fn waitlist_ended(reader: &Reader<'_>, lesson: &Lesson<'_>) -> Rendered {
    let when = lesson_time(reader, lesson.start, lesson.end);
    match reader.locale {
        Locale::En => Rendered {
            subject: format!("No seat freed up in the lesson with {}", lesson.teacher),
            text: body(
                reader,
                &[
                    format!(
                        "No seat freed up in the lesson with {} on {when} before it started, so the waitlist has closed.",
                        lesson.teacher
                    ),
                    "Nothing was charged. Other times may still be open: have a look at the schedule.".into(),
                ],
            ),
        },
        Locale::Ko => Rendered {
            subject: format!("{} 선생님 수업에 자리가 나지 않았습니다", lesson.teacher),
            text: body(
                reader,
                &[
                    format!(
                        "{when} {} 선생님 수업이 시작될 때까지 자리가 나지 않아 대기가 종료되었습니다.",
                        lesson.teacher
                    ),
                    "결제된 금액은 없습니다. 다른 시간을 확인해 보세요.".into(),
                ],
            ),
        },
    }
}

/// To the student: the teacher cancelled; a make-up credit valid until
/// `credit_expires` was issued.
pub fn teacher_cancelled(reader: &Reader<'_>, lesson: &Lesson<'_>, credit_expires: OffsetDateTime) -> Rendered {
    let when = lesson_time(reader, lesson.start, lesson.end);
    let expires = reader.zone.to_local(credit_expires).date();
    match reader.locale {
        Locale::En => Rendered {
            subject: format!("{} cancelled your lesson: you have a make-up credit", lesson.teacher),
            text: body(
                reader,
                &[
                    format!("{} had to cancel your lesson on {when}.", lesson.teacher),
                    format!(
                        "You received a make-up credit for a lesson with {}, valid until {expires}.",
                        lesson.teacher
                    ),
                ],
            ),
        },
        Locale::Ko => Rendered {
            subject: format!(
                "{} 선생님이 수업을 취소했습니다: 보강 수업권이 발급되었습니다",
                lesson.teacher
            ),
            text: body(
                reader,
                &[
                    format!("{} 선생님이 {when} 수업을 취소했습니다.", lesson.teacher),
                    format!("{expires}까지 사용할 수 있는 보강 수업권이 발급되었습니다."),
                ],
            ),
        },
    }
}

/// To either party: the lesson starts in `lead`.
pub fn reminder(reader: &Reader<'_>, lesson: &Lesson<'_>, lead: Duration) -> Rendered {
    let when = lesson_time(reader, lesson.start, lesson.end);
    let (hours, minutes) = (lead.whole_hours(), lead.whole_minutes() % 60);
    match reader.locale {
        Locale::En => {
            let lead = match (hours, minutes) {
                (0, m) => format!("{m} minutes"),
                (1, 0) => "1 hour".to_owned(),
                (h, 0) => format!("{h} hours"),
                (h, m) => format!("{h} h {m} min"),
            };
            Rendered {
                subject: format!("Reminder: lesson in {lead}"),
                text: body(
                    reader,
                    &[format!(
                        "Your lesson ({} with {}) starts in {lead}: {when}.{}",
                        lesson.teacher,
                        lesson.student,
                        join_line(reader, lesson)
                    )],
                ),
            }
        }
        Locale::Ko => {
            let lead = match (hours, minutes) {
                (0, m) => format!("{m}분"),
                (h, 0) => format!("{h}시간"),
                (h, m) => format!("{h}시간 {m}분"),
            };
            Rendered {
                subject: format!("알림: {lead} 후 수업이 시작됩니다"),
                text: body(
                    reader,
                    &[format!(
                        "{when} 수업({} 선생님, {}님)이 {lead} 후 시작됩니다.{}",
                        lesson.teacher,
                        lesson.student,
                        join_line(reader, lesson)
                    )],
                ),
            }
        }
    }
}

/// To the student: a refund of `amount` was made for the course `course`.
pub fn refund_issued(reader: &Reader<'_>, course: &str, amount: Money) -> Rendered {
    let amount = format_money(amount);
    match reader.locale {
        Locale::En => Rendered {
            subject: format!("Refund of {amount} for {course}"),
            text: body(
                reader,
                &[format!(
                    "We refunded {amount} for {course}. It can take a few business days to appear."
                )],
            ),
        },
        Locale::Ko => Rendered {
            subject: format!("{course} 환불 {amount}"),
            text: body(
                reader,
                &[format!(
                    "{course} 수강료 {amount}이(가) 환불되었습니다. 반영까지 영업일 기준 며칠이 걸릴 수 있습니다."
                )],
            ),
        },
    }
}

/// `40,000 KRW`, `12.50 USD`: grouped whole units, then the currency's minor
/// digits (amounts are never negative).
fn format_money(amount: Money) -> String {
    let digits = u32::from(amount.currency().exponent());
    let scale = 10_i64.pow(digits);
    let (whole, minor) = (amount.minor() / scale, amount.minor() % scale);
    let whole = whole.to_string();
    let grouped = whole
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(",");
    let currency = amount.currency();
    let code = currency.code();
    if digits == 0 {
        format!("{grouped} {code}")
    } else {
        format!("{grouped}.{minor:0width$} {code}", width = digits as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use tutorbook_domain::Currency;

    fn reader(locale: Locale, zone: &str) -> Reader<'static> {
        Reader {
            name: "Mina",
            locale,
            zone: Zone::parse(zone).unwrap(),
        }
    }

    /// 2026-03-08 14:00 UTC: the first morning of daylight time in New York.
    fn lesson() -> Lesson<'static> {
        Lesson {
            teacher: "Ms. Kim",
            student: "Joon",
            start: datetime!(2026-03-08 14:00 UTC),
            end: datetime!(2026-03-08 14:50 UTC),
            join_url: Some("https://meet.google.com/abc-defg-hij"),
        }
    }

    #[test]
    fn times_are_shown_on_the_readers_wall_clock_with_the_offset_of_that_day() {
        let l = lesson();
        assert_eq!(
            lesson_time(&reader(Locale::En, "America/New_York"), l.start, l.end),
            "Sunday, 8 March 2026, 10:00–10:50 (America/New_York, UTC-04:00)"
        );
        // The day before, New York was still on standard time.
        assert_eq!(
            lesson_time(
                &reader(Locale::En, "America/New_York"),
                l.start - Duration::days(1),
                l.end - Duration::days(1)
            ),
            "Saturday, 7 March 2026, 09:00–09:50 (America/New_York, UTC-05:00)"
        );
        assert_eq!(
            lesson_time(&reader(Locale::Ko, "Asia/Seoul"), l.start, l.end),
            "2026년 3월 8일 (일) 23:00–23:50 (Asia/Seoul, UTC+09:00)"
        );
        assert_eq!(
            lesson_time(&reader(Locale::En, "Asia/Kolkata"), l.start, l.end),
            "Sunday, 8 March 2026, 19:30–20:20 (Asia/Kolkata, UTC+05:30)"
        );
    }

    #[test]
    fn a_request_goes_to_the_teacher_in_their_language() {
        let en = booking_requested(&reader(Locale::En, "America/New_York"), &lesson());
        assert_eq!(en.subject, "New lesson request from Joon");
        assert_eq!(
            en.text,
            "Hello Mina,\n\nJoon asked for a lesson with you on Sunday, 8 March 2026, 10:00–10:50 \
             (America/New_York, UTC-04:00).\nPlease approve or decline the request before the lesson starts.\n"
        );
        let ko = booking_requested(&reader(Locale::Ko, "Asia/Seoul"), &lesson());
        assert_eq!(ko.subject, "Joon님의 새 수업 신청");
        assert!(ko.text.starts_with("Mina님, 안녕하세요.\n\n"));
        assert!(
            ko.text
                .contains("Joon님이 2026년 3월 8일 (일) 23:00–23:50 (Asia/Seoul, UTC+09:00) 수업을 신청했습니다.")
        );
    }

    #[test]
    fn a_confirmation_names_the_teacher_and_the_join_link() {
        let en = booking_confirmed(&reader(Locale::En, "Europe/London"), &lesson());
        assert_eq!(en.subject, "Your lesson with Ms. Kim is confirmed");
        assert!(
            en.text
                .contains("on Sunday, 8 March 2026, 14:00–14:50 (Europe/London, UTC+00:00) is confirmed.")
        );
        assert!(en.text.contains("\nJoin: https://meet.google.com/abc-defg-hij"));
        let ko = booking_confirmed(&reader(Locale::Ko, "Asia/Seoul"), &lesson());
        assert_eq!(ko.subject, "Ms. Kim 선생님 수업이 확정되었습니다");
        assert!(ko.text.contains("참여 링크: https://meet.google.com/abc-defg-hij"));
        let no_link = booking_confirmed(
            &reader(Locale::En, "Asia/Seoul"),
            &Lesson {
                join_url: None,
                ..lesson()
            },
        );
        assert!(!no_link.text.contains("Join"));
    }

    #[test]
    fn a_decline_tells_the_student_in_their_language() {
        let en = booking_declined(&reader(Locale::En, "Asia/Seoul"), &lesson());
        assert_eq!(en.subject, "Your lesson request with Ms. Kim was declined");
        assert!(
            en.text
                .contains("Sunday, 8 March 2026, 23:00–23:50 (Asia/Seoul, UTC+09:00)")
        );
        let ko = booking_declined(&reader(Locale::Ko, "Asia/Seoul"), &lesson());
        assert_eq!(ko.subject, "Ms. Kim 선생님 수업 신청이 거절되었습니다");
        assert!(ko.text.contains("받아들여지지 않았습니다"));
    }

    #[test]
    fn a_teacher_cancellation_gives_the_credit_expiry_as_the_readers_local_date() {
        // 2026-04-07 20:00 UTC is already 8 April in Seoul.
        let expires = datetime!(2026-04-07 20:00 UTC);
        let en = teacher_cancelled(&reader(Locale::En, "America/New_York"), &lesson(), expires);
        assert_eq!(en.subject, "Ms. Kim cancelled your lesson: you have a make-up credit");
        assert!(en.text.contains("valid until 2026-04-07."));
        let ko = teacher_cancelled(&reader(Locale::Ko, "Asia/Seoul"), &lesson(), expires);
        assert!(ko.text.contains("2026-04-08까지 사용할 수 있는 보강 수업권"));
        assert!(ko.subject.contains("보강 수업권"));
    }

    #[test]
    fn a_seat_offer_gives_its_deadline_on_the_readers_wall_clock() {
        let deadline = datetime!(2026-03-08 12:30 UTC);
        let en = seat_offered(&reader(Locale::En, "America/New_York"), &lesson(), deadline);
        let until = "Sunday, 8 March 2026, 08:30 (America/New_York, UTC-04:00)";
        assert_eq!(
            en.subject,
            format!("A seat is free in the lesson with Ms. Kim: accept by {until}")
        );
        assert!(en.text.contains(&format!("It is kept for you until {until}.")));
        assert!(en.text.contains("10:00–10:50"));
        let ko = seat_offered(&reader(Locale::Ko, "Asia/Seoul"), &lesson(), deadline);
        assert!(
            ko.text
                .contains("2026년 3월 8일 (일) 21:30 (Asia/Seoul, UTC+09:00)까지 자리를 맡아 둡니다")
        );
    }

    #[test]
    fn waitlist_emails_say_what_happened_to_the_place() {
        let en = reader(Locale::En, "Europe/London");
        let ko = reader(Locale::Ko, "Asia/Seoul");
        let promoted = waitlist_promoted(&en, &lesson());
        assert!(promoted.subject.contains("is confirmed"));
        assert!(promoted.text.contains("Join: https://meet.google.com/abc-defg-hij"));
        assert!(
            waitlist_promoted(&ko, &lesson())
                .text
                .contains("대기 순서에 따라 수업이 확정")
        );
        assert!(
            offer_expired(&en, &lesson())
                .text
                .contains("went to the next person on the waitlist")
        );
        assert!(
            offer_expired(&ko, &lesson())
                .text
                .contains("다음 대기자에게 넘어갔습니다")
        );
        let ended = waitlist_ended(&en, &lesson());
        assert_eq!(ended.subject, "No seat freed up in the lesson with Ms. Kim");
        assert!(ended.text.contains("the waitlist has closed"));
        assert!(waitlist_ended(&ko, &lesson()).text.contains("대기가 종료"));
    }

    #[test]
    fn reminders_say_how_long_until_the_lesson() {
        let en = reminder(&reader(Locale::En, "America/New_York"), &lesson(), Duration::hours(24));
        assert_eq!(en.subject, "Reminder: lesson in 24 hours");
        assert!(
            en.text
                .contains("starts in 24 hours: Sunday, 8 March 2026, 10:00–10:50")
        );
        let one = reminder(&reader(Locale::En, "America/New_York"), &lesson(), Duration::hours(1));
        assert_eq!(one.subject, "Reminder: lesson in 1 hour");
        let ko = reminder(&reader(Locale::Ko, "Asia/Seoul"), &lesson(), Duration::minutes(15));
        assert_eq!(ko.subject, "알림: 15분 후 수업이 시작됩니다");
        assert!(ko.text.contains("15분 후 시작됩니다."));
    }

    #[test]
    fn refunds_show_the_amount_in_the_currencys_units() {
        let krw = Money::new(26_666, Currency::parse("KRW").unwrap()).unwrap();
        let ko = refund_issued(&reader(Locale::Ko, "Asia/Seoul"), "IELTS 8주", krw);
        assert_eq!(ko.subject, "IELTS 8주 환불 26,666 KRW");
        let usd = Money::new(1_234_505, Currency::parse("USD").unwrap()).unwrap();
        let en = refund_issued(&reader(Locale::En, "America/New_York"), "IELTS 8 weeks", usd);
        assert_eq!(en.subject, "Refund of 12,345.05 USD for IELTS 8 weeks");
    }
}
